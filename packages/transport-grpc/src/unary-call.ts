import type { Metadata, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { clientErrorOf, ManagerError, type ApiAuth, type Logger, type ManagerMetrics, type ManagerTracing } from '@cocos-manager/core';
import type { ManagerUnaryRpc, ManagerUnaryRpcs } from '@cocos-manager/contract';
import { authorizeCall } from './call-auth.js';
import { serviceErrorOf } from './status.js';

export type Request<M extends ManagerUnaryRpc> = ManagerUnaryRpcs[M]['request'];
export type Response<M extends ManagerUnaryRpc> = ManagerUnaryRpcs[M]['response'];
export type Handler<M extends ManagerUnaryRpc> = (call: ServerUnaryCall<Request<M>, Response<M>>, callback: sendUnaryData<Response<M>>) => void;
/** What a method does with its request: an answer at once (reads served from memory), or a promise of one. */
export type UnaryRun<M extends ManagerUnaryRpc> = (req: Request<M>, metadata: Metadata) => Response<M> | Promise<Response<M>>;

/** What every unary call goes through. */
export interface UnaryCallDeps {
  readonly auth: ApiAuth;
  readonly metrics: ManagerMetrics;
  readonly logger: Logger;
  readonly tracing: ManagerTracing;
  /** MANAGER_GRPC_TIMEOUT, ms. */
  readonly timeoutMs: number;
  readonly maxHeaderBytes: number;
  /** Whether TLS asks clients for a certificate (read per call: it is known once the server listens). */
  readonly verifiesClients: () => boolean;
}

/** MANAGER_GRPC_TIMEOUT: a call still running after it is answered DEADLINE_EXCEEDED (the work itself goes on). */
export function withTimeout<T>(work: Promise<T>, ms: number, method: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new ManagerError('CALL_DEADLINE_EXCEEDED', `${method} took longer than MANAGER_GRPC_TIMEOUT (${ms} ms); it may still complete, check ListVms`)),
      ms,
    );
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * One unary method's grpc-js handler: the caller authorised, the call traced
 * when asked, timed out when it waits on VMs, counted and answered. An
 * answer the method has at once (CVMInfo and ListVms read memory) goes back
 * without a promise and its two callbacks: 304 of the ~3.7 KB a CVMInfo
 * call allocated beyond a bare grpc-js server, under 64 callers where the
 * garbage collector is nearly half of the manager's busy time (BENCHMARKS.md).
 */
export function unaryHandler<M extends ManagerUnaryRpc>(method: M, run: UnaryRun<M>, deps: UnaryCallDeps): Handler<M> {
  const { auth, metrics, logger, tracing, timeoutMs, maxHeaderBytes } = deps;
  // Only calls that wait on VMs can outlive MANAGER_GRPC_TIMEOUT; reads answer from memory.
  const timed = method === 'CreateVm' || method === 'RemoveVm' || method === 'AttestationPolicy';
  const spanName = `manager.ManagerService/${method}`;
  // Resolved once per method, not per call: this wrapper is on every request's path.
  const okCall = metrics.callObserver('grpc', method, 'OK');
  const debug = logger.isLevelEnabled('debug');

  const answered = (started: number, callback: sendUnaryData<Response<M>>, res: Response<M>) => {
    const seconds = (performance.now() - started) / 1000;
    okCall(seconds);
    if (debug) logger.debug({ method, ms: +(seconds * 1000).toFixed(2) }, 'gRPC call');
    callback(null, res);
  };
  const failed = (started: number, callback: sendUnaryData<Response<M>>, err: unknown) => {
    const failure = clientErrorOf(err);
    metrics.observeCall('grpc', method, failure.code, (performance.now() - started) / 1000);
    if (failure.unexpected) logger.error({ method, err }, 'gRPC call failed unexpectedly');
    else logger.info({ method, code: failure.code, error: failure.message, ...(failure.detail ? { detail: failure.detail } : {}) }, 'gRPC call failed');
    callback(serviceErrorOf(failure));
  };

  return (call, callback) => {
    const started = performance.now();
    let result: Response<M> | Promise<Response<M>>;
    try {
      // Before the handler: who calls, and may they? (the token itself is never logged)
      authorizeCall(auth, call, method, maxHeaderBytes, deps.verifiesClients());
      result = tracing.wanted(call.metadata.get('traceparent').length > 0)
        ? tracing.serve(spanName, tracing.extract(call.metadata.getMap()), (span) => {
            span.setAttribute('rpc.system', 'grpc');
            // ManagerTracing.serve takes a promise: a throw becomes its rejection, whatever the tracing in use does with one.
            return new Promise<Response<M>>((resolve) => resolve(run(call.request, call.metadata)));
          })
        : run(call.request, call.metadata);
    } catch (err) {
      failed(started, callback, err);
      return;
    }
    if (!(result instanceof Promise)) {
      answered(started, callback, result);
      return;
    }
    (timed ? withTimeout(result, timeoutMs, method) : result).then(
      (res) => answered(started, callback, res),
      (err: unknown) => failed(started, callback, err),
    );
  };
}
