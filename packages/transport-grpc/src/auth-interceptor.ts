import { ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, type ServerInterceptor } from '@grpc/grpc-js';
import { clientErrorOf, type ApiAuth, type Logger, type ManagerMetrics } from '@cocos-manager/core';
import { authorizeCall, RPC_OPERATIONS, type ManagerRpc } from './call-auth.js';
import { serviceErrorOf } from './status.js';

const SERVICE_PREFIX = '/manager.ManagerService/';

/** What the interceptor needs to refuse a call before its message is read. */
export interface AuthFirstOptions {
  readonly auth: ApiAuth;
  readonly metrics: ManagerMetrics;
  readonly logger: Logger;
  readonly maxHeaderBytes: number;
  /** Whether the listener verifies client certificates (MANAGER_GRPC_CLIENT_CA_CERTS). */
  readonly clientCertificates: () => boolean;
}

function rpcOf(path: string): ManagerRpc | null {
  if (!path.startsWith(SERVICE_PREFIX)) return null;
  const name = path.slice(SERVICE_PREFIX.length);
  return Object.hasOwn(RPC_OPERATIONS, name) ? (name as ManagerRpc) : null;
}

/**
 * Authentication before buffering: a ManagerService call is checked on its
 * metadata (headers), before grpc-js reads a byte of its message. A refused
 * call gets its status at once and its stream is never read — its DATA frames
 * are discarded as they come, held back by HTTP/2 flow control meanwhile — so
 * an unauthenticated caller cannot make the manager buffer its 16 MiB
 * messages. (grpc.health and reflection are not ours: free, as before.)
 */
export function authFirst(options: AuthFirstOptions): ServerInterceptor {
  return (method, call) => {
    const rpc = rpcOf(method.path);
    // Not ours: passed through untouched.
    if (rpc === null) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        try {
          authorizeCall(options.auth, { metadata, getAuthContext: () => call.getAuthContext() }, rpc, options.maxHeaderBytes, options.clientCertificates());
        } catch (err) {
          const failure = clientErrorOf(err);
          options.metrics.observeCall('grpc', rpc, failure.code, 0);
          options.logger.info({ method: rpc, code: failure.code, error: failure.message }, 'gRPC call refused before its message was read');
          const status = serviceErrorOf(failure);
          call.sendStatus({ code: status.code, details: status.details, metadata: status.metadata ?? null });
          return;
        }
        next(metadata);
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
