import { CREATE_REQUEST_FIELDS, emptyCreateVmRequest, ManagerError, PEM_FIELDS, REQUEST_LIMITS, TEXT_FIELDS, type CreateVmRequest } from '@cocos-manager/core';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * POST /vms's JSON body — the CreateReq fields under their wire names, bytes
 * as base64 — as a service request. Unknown fields and wrong types are
 * refused, as a strict client would want.
 */
export function createRequestFromJson(body: unknown): CreateVmRequest {
  if (body === undefined || body === null || body === '') body = {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new ManagerError('REQUEST_BODY_INVALID', 'the body must be a JSON object of CreateReq fields');
  const b = body as Record<string, unknown>;
  const known = new Set<string>(CREATE_REQUEST_FIELDS.map((f) => f.wire));
  const unknown = Object.keys(b).filter((k) => !known.has(k));
  if (unknown.length > 0)
    throw new ManagerError('REQUEST_BODY_INVALID', `unknown field(s) ${unknown.join(', ')}; expected CreateReq fields (${[...known].join(', ')})`);
  const text = (k: string) => {
    const v = b[k] ?? '';
    if (typeof v !== 'string') throw new ManagerError('REQUEST_BODY_INVALID', `${k} must be a string`, { fields: { field: k } });
    return v;
  };
  const bytes = (k: string) => {
    const v = b[k] ?? '';
    if (typeof v !== 'string' || !BASE64.test(v))
      throw new ManagerError('REQUEST_BODY_INVALID', `${k} must be base64 (the bytes of a PEM file)`, { fields: { field: k } });
    return Buffer.from(v, 'base64');
  };
  const out: Record<string, unknown> = { ...emptyCreateVmRequest() };
  for (const { key, wire } of TEXT_FIELDS) out[key] = text(wire);
  for (const { key, wire } of PEM_FIELDS) out[key] = bytes(wire);
  return out as unknown as CreateVmRequest;
}

/** Base64 of `bytes` bytes, with padding. */
const base64Length = (bytes: number) => 4 * Math.ceil(bytes / 3);
/**
 * POST /vms's body limit: the largest valid CreateReq as JSON. Three PEMs at
 * their limit in base64, ten text fields at their limit with every byte
 * written as a 6-byte `\uXXXX` escape (encoders such as Go's escape `<`, `>`,
 * `&` that way), and 4 KiB for field names, punctuation and whitespace.
 * About 1.24 MiB; anything larger cannot be a valid request.
 */
export const MAX_CREATE_BODY_BYTES = PEM_FIELDS.length * base64Length(REQUEST_LIMITS.pemBytes) + TEXT_FIELDS.length * REQUEST_LIMITS.textBytes * 6 + 4096;
