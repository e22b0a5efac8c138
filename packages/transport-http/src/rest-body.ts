import { ManagerError, REQUEST_LIMITS, type CreateVmRequest } from '@cocos-manager/core';

const TEXT = [
  'agent_log_level',
  'agent_cvm_server_url',
  'agent_cvm_ca_url',
  'ttl',
  'agent_certs_token',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_endpoint_url',
  'aws_region',
  'aa_kbs_params',
] as const;
const BYTES = ['agent_cvm_server_ca_cert', 'agent_cvm_client_key', 'agent_cvm_client_cert'] as const;
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
  const known = new Set<string>([...TEXT, ...BYTES]);
  const unknown = Object.keys(b).filter((k) => !known.has(k));
  if (unknown.length > 0)
    throw new ManagerError('REQUEST_BODY_INVALID', `unknown field(s) ${unknown.join(', ')}; expected CreateReq fields (${[...known].join(', ')})`);
  const text = (k: (typeof TEXT)[number]) => {
    const v = b[k] ?? '';
    if (typeof v !== 'string') throw new ManagerError('REQUEST_BODY_INVALID', `${k} must be a string`);
    return v;
  };
  const bytes = (k: (typeof BYTES)[number]) => {
    const v = b[k] ?? '';
    if (typeof v !== 'string' || !BASE64.test(v)) throw new ManagerError('REQUEST_BODY_INVALID', `${k} must be base64 (the bytes of a PEM file)`);
    return Buffer.from(v, 'base64');
  };
  return {
    agentLogLevel: text('agent_log_level'),
    agentCvmServerCaCert: bytes('agent_cvm_server_ca_cert'),
    agentCvmClientKey: bytes('agent_cvm_client_key'),
    agentCvmClientCert: bytes('agent_cvm_client_cert'),
    agentCvmServerUrl: text('agent_cvm_server_url'),
    agentCvmCaUrl: text('agent_cvm_ca_url'),
    ttl: text('ttl'),
    agentCertsToken: text('agent_certs_token'),
    awsAccessKeyId: text('aws_access_key_id'),
    awsSecretAccessKey: text('aws_secret_access_key'),
    awsEndpointUrl: text('aws_endpoint_url'),
    awsRegion: text('aws_region'),
    aaKbsParams: text('aa_kbs_params'),
  };
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
export const MAX_CREATE_BODY_BYTES = BYTES.length * base64Length(REQUEST_LIMITS.pemBytes) + TEXT.length * REQUEST_LIMITS.textBytes * 6 + 4096;
