import type { ServiceError } from '@grpc/grpc-js';
import { clientErrorOf, type ClientError } from '@cocos-manager/core';

export type GrpcFailure = Partial<ServiceError> & { code: number; details: string };

/** A catalogued failure as the error a gRPC handler answers with. */
export function serviceErrorOf(failure: ClientError): GrpcFailure {
  return { code: failure.grpcStatus, details: failure.message, message: failure.message };
}

/**
 * Any thrown value as a gRPC error: status and message from core's error
 * catalogue (an unexpected error's own text is for the log, not the client).
 */
export function toServiceError(err: unknown): GrpcFailure {
  return serviceErrorOf(clientErrorOf(err));
}
