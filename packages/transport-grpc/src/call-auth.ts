import type { Metadata } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { ManagerError, type ApiAuth, type ApiOperation, type Caller, type Credentials } from '@cocos-manager/core';

/** The operation each RPC of manager.ManagerService performs (grpc.health and reflection are not ours: free). */
export const RPC_OPERATIONS = {
  CreateVm: 'create',
  RemoveVm: 'remove',
  ListVms: 'list',
  GetVm: 'get',
  CVMInfo: 'info',
  AttestationPolicy: 'policy',
  GetConsole: 'console',
  WatchEvents: 'events',
} as const satisfies Record<string, ApiOperation>;

export type ManagerRpc = keyof typeof RPC_OPERATIONS;

/** What a handler's call object offers for authentication. */
export interface AuthenticatedCall {
  readonly metadata: Metadata;
  getAuthContext(): { readonly sslPeerCertificate?: PeerCertificate };
}

/** `authorization: Bearer <token>` (scheme case-insensitive); null without one. The token itself is never logged. */
export function bearerOf(metadata: Metadata): string | null {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return null;
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(value);
  return match?.[1] ?? '';
}

/** Bytes of request metadata as HTTP/2 counts a header list: names, values and 32 per entry (RFC 7540 §6.5.2). */
export function metadataBytes(metadata: Metadata): number {
  let total = 0;
  for (const [name, values] of Object.entries(metadata.toJSON())) {
    for (const value of values) total += name.length + (typeof value === 'string' ? Buffer.byteLength(value) : value.length) + 32;
  }
  return total;
}

/**
 * The per-call check that runs before every ManagerService handler:
 * metadata within MANAGER_GRPC_SERVER_MAX_HEADER_BYTES, then the caller's
 * bearer token or verified client certificate mapped to a role allowed to
 * perform the RPC's operation. Throws RESOURCE_EXHAUSTED, UNAUTHENTICATED or
 * PERMISSION_DENIED. `clientCertificates`: whether the listener verifies client
 * certificates at all (MANAGER_GRPC_CLIENT_CA_CERTS); without it no call can
 * carry one, and the auth context (a TLS socket lookup per call) is not read.
 */
export function authorizeCall(auth: ApiAuth, call: AuthenticatedCall, rpc: ManagerRpc, maxHeaderBytes: number, clientCertificates = true): Caller {
  const size = metadataBytes(call.metadata);
  if (size > maxHeaderBytes) {
    throw new ManagerError('CALL_METADATA_TOO_LARGE', `the call's metadata is ${size} bytes; MANAGER_GRPC_SERVER_MAX_HEADER_BYTES allows ${maxHeaderBytes}`);
  }
  // grpc-js reports a certificate only when the TLS handshake verified it against MANAGER_GRPC_CLIENT_CA_CERTS.
  const certificate = clientCertificates ? (call.getAuthContext().sslPeerCertificate ?? null) : null;
  const credentials: Credentials = { bearer: bearerOf(call.metadata), certificate };
  return auth.authorize(credentials, RPC_OPERATIONS[rpc]);
}
