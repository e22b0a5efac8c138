/**
 * Failure kinds every transport maps onto its own status codes (gRPC status,
 * HTTP status). The service throws these; anything else is INTERNAL.
 */
export const ErrorCode = {
  InvalidArgument: 'INVALID_ARGUMENT',
  NotFound: 'NOT_FOUND',
  ResourceExhausted: 'RESOURCE_EXHAUSTED',
  FailedPrecondition: 'FAILED_PRECONDITION',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Which limit a RESOURCE_EXHAUSTED hit: the VM count (retry after a removal) or the port pool. */
export type ExhaustedResource = 'vm-capacity' | 'ports';

export class ManagerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; resource?: ExhaustedResource },
  ) {
    super(message, options);
    this.name = 'ManagerError';
    this.resource = options?.resource;
  }

  readonly resource: ExhaustedResource | undefined;

  static invalidArgument(message: string): ManagerError {
    return new ManagerError(ErrorCode.InvalidArgument, message);
  }
  static notFound(message: string): ManagerError {
    return new ManagerError(ErrorCode.NotFound, message);
  }
  static resourceExhausted(message: string, resource?: ExhaustedResource): ManagerError {
    return new ManagerError(ErrorCode.ResourceExhausted, message, resource ? { resource } : {});
  }
  static failedPrecondition(message: string): ManagerError {
    return new ManagerError(ErrorCode.FailedPrecondition, message);
  }
  static internal(message: string, cause?: unknown): ManagerError {
    return new ManagerError(ErrorCode.Internal, message, { cause });
  }
}

/** The code of any thrown value: ManagerError keeps its own, the rest is INTERNAL. */
export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof ManagerError ? err.code : ErrorCode.Internal;
}
