import { status, type ServiceError } from '@grpc/grpc-js';
import { ErrorCode, errorCodeOf } from '@cocos-manager/core';

const STATUS_OF: Record<ErrorCode, status> = {
  [ErrorCode.InvalidArgument]: status.INVALID_ARGUMENT,
  [ErrorCode.NotFound]: status.NOT_FOUND,
  [ErrorCode.ResourceExhausted]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.FailedPrecondition]: status.FAILED_PRECONDITION,
  [ErrorCode.Internal]: status.INTERNAL,
};

/** A service failure as a gRPC error with the matching status code and its message. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const own = (err as { grpcCode?: status } | null)?.grpcCode;
  const code = own ?? STATUS_OF[errorCodeOf(err)];
  const message = err instanceof Error ? err.message : String(err);
  return { code, details: message, message };
}
