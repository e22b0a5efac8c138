import { ErrorCode, errorCodeOf, ManagerError } from '@cocos-manager/core';

/** A service failure as an HTTP status and a JSON body naming the code and what was wrong. */
export function toHttpError(err: unknown): { status: number; body: { error: { code: string; message: string } } } {
  const code = errorCodeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const status =
    code === ErrorCode.InvalidArgument ? 400
    : code === ErrorCode.NotFound ? 404
    : code === ErrorCode.FailedPrecondition ? 412
    : code === ErrorCode.ResourceExhausted ? ((err as ManagerError).resource === 'ports' ? 503 : 429)
    : 500;
  return { status, body: { error: { code, message } } };
}
