// The shape of a catalogue entry and the helpers that make one (catalogue.ts holds the entries).
/** The status class of a failure: the gRPC status name, also `error.code` of the HTTP body. */
export const ErrorCode = {
  InvalidArgument: 'INVALID_ARGUMENT',
  NotFound: 'NOT_FOUND',
  ResourceExhausted: 'RESOURCE_EXHAUSTED',
  FailedPrecondition: 'FAILED_PRECONDITION',
  DeadlineExceeded: 'DEADLINE_EXCEEDED',
  Unauthenticated: 'UNAUTHENTICATED',
  PermissionDenied: 'PERMISSION_DENIED',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status of an error of this class that no client sees (start-up, log): the class's usual one. */
export const USUAL_HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  DEADLINE_EXCEEDED: 504,
  NOT_FOUND: 404,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 503,
  FAILED_PRECONDITION: 412,
  INTERNAL: 500,
  UNAUTHENTICATED: 401,
};

export const GRPC_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAUTHENTICATED: 16,
};

/**
 * Where a failure can be seen: in an API call's answer (`call`), in the one
 * line a refused start-up prints (`start-up`), or only in the manager's log
 * (`log`: failures it handles itself — retries, teardown — or reports under
 * another code).
 */
export type ErrorScope = 'call' | 'start-up' | 'log';
export type WireTransport = 'grpc' | 'http';

export interface ErrorCatalogueEntry {
  readonly code: ErrorCode;
  /** gRPC status number (3 INVALID_ARGUMENT, 5 NOT_FOUND, …). */
  readonly grpcStatus: number;
  readonly httpStatus: number;
  /** What a client is told when the error's own text may not be shown. */
  readonly clientMessage: string;
  /** What the failure means and what to do about it (docs/errors.md). */
  readonly doc: string;
  readonly scope: ErrorScope;
  /** For `call` errors: the transports whose calls can fail with it (a transport-specific refusal names one). */
  readonly transports: readonly WireTransport[];
}

export const BOTH: readonly WireTransport[] = ['grpc', 'http'];

export function call(code: ErrorCode, httpStatus: number, clientMessage: string, doc: string, transports = BOTH): ErrorCatalogueEntry {
  return { code, grpcStatus: GRPC_STATUS[code], httpStatus, clientMessage, doc, scope: 'call', transports };
}
export function startUp(code: ErrorCode, clientMessage: string, doc: string, scope: ErrorScope = 'start-up'): ErrorCatalogueEntry {
  return { code, grpcStatus: GRPC_STATUS[code], httpStatus: USUAL_HTTP_STATUS[code], clientMessage, doc, scope, transports: [] };
}
export function logged(code: ErrorCode, clientMessage: string, doc: string): ErrorCatalogueEntry {
  return startUp(code, clientMessage, doc, 'log');
}
