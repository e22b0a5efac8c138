import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { clientErrorOf, type ClientError } from '@cocos-manager/core';

export type GrpcFailure = Partial<ServiceError> & { code: number; details: string };

/** The trailing metadata key that carries a failure's stable code (docs/errors.md). */
export const ERROR_CODE_METADATA = 'cocos-error-code';

/**
 * A catalogued failure as the error a gRPC handler answers with: its status,
 * details `CODE: message`, and the code alone in the trailing metadata
 * `cocos-error-code`, for clients that branch on it.
 */
export function serviceErrorOf(failure: ClientError): GrpcFailure {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_METADATA, failure.reason);
  return { code: failure.grpcStatus, details: failure.message, message: failure.message, metadata };
}

/**
 * Any thrown value as a gRPC error: status and message from core's error
 * catalogue (an unexpected error's own text is for the log, not the client).
 */
export function toServiceError(err: unknown): GrpcFailure {
  return serviceErrorOf(clientErrorOf(err));
}
