import { emptyCreateVmRequest, PEM_FIELDS, TEXT_FIELDS, type CreateVmRequest } from '@cocos-manager/core';
import type { CreateReq } from '@cocos-manager/contract';

/** CreateReq off the wire as the service's request (the server's side of the contract), field by field of core's table. */
export function fromCreateReq(req: CreateReq): CreateVmRequest {
  const wire = req as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { ...emptyCreateVmRequest() };
  for (const { key, wire: name } of TEXT_FIELDS) out[key] = typeof wire[name] === 'string' ? wire[name] : '';
  for (const { key, wire: name } of PEM_FIELDS) out[key] = wire[name] instanceof Uint8Array ? wire[name] : new Uint8Array();
  return out as unknown as CreateVmRequest;
}
