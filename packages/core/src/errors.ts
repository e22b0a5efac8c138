/**
 * The one error catalogue: every kind of failure the manager reports, with
 * its code, its gRPC status, its HTTP status and a message safe to show any
 * client. Transports look errors up here and nowhere else (Fastify's
 * lib/errors.js is the model). gRPC statuses are the bare numbers of the
 * gRPC spec (doc/statuscodes.md), so core needs no gRPC library.
 */

/** The code a client sees: the gRPC status name, also the `code` of the HTTP error body. */
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

/** Which limit a RESOURCE_EXHAUSTED hit: the VM count (retry after a removal), the port pool, or the state disk's space. */
export type ExhaustedResource = 'vm-capacity' | 'ports' | 'state-disk';

export interface ErrorCatalogueEntry {
  readonly code: ErrorCode;
  /** gRPC status number (3 INVALID_ARGUMENT, 5 NOT_FOUND, …). */
  readonly grpcStatus: number;
  readonly httpStatus: number;
  /** What a client is told when the error's own text may not be shown. */
  readonly clientMessage: string;
  /** For RESOURCE_EXHAUSTED: which limit. */
  readonly resource?: ExhaustedResource;
  /**
   * A stable UPPER_SNAKE_CASE code of this one failure, for entries that share
   * a status with others (google.rpc.ErrorInfo's `reason`): clients see it at
   * the start of the message (gRPC details, the HTTP error body) and may
   * branch on it, never on the rest of the text.
   */
  readonly reason?: string;
}

export const ERROR_CATALOGUE = {
  'invalid-argument': { code: ErrorCode.InvalidArgument, grpcStatus: 3, httpStatus: 400, clientMessage: 'the request is invalid' },
  // Fastify's own refusals of a request body, and ours: INVALID_ARGUMENT on gRPC.
  'payload-too-large': { code: ErrorCode.InvalidArgument, grpcStatus: 3, httpStatus: 413, clientMessage: 'the request body is too large' },
  'unsupported-media-type': {
    code: ErrorCode.InvalidArgument,
    grpcStatus: 3,
    httpStatus: 415,
    clientMessage: 'the request body has an unsupported content type',
  },
  'not-found': { code: ErrorCode.NotFound, grpcStatus: 5, httpStatus: 404, clientMessage: 'not found' },
  // 429: the caller may retry once a VM is removed; 503: the host is out of ports.
  'vm-capacity': {
    code: ErrorCode.ResourceExhausted,
    grpcStatus: 8,
    httpStatus: 429,
    clientMessage: 'the manager runs as many VMs as it may',
    resource: 'vm-capacity',
  },
  ports: { code: ErrorCode.ResourceExhausted, grpcStatus: 8, httpStatus: 503, clientMessage: 'no free host port for a VM', resource: 'ports' },
  'failed-precondition': { code: ErrorCode.FailedPrecondition, grpcStatus: 9, httpStatus: 412, clientMessage: 'the host cannot do this now' },
  'deadline-exceeded': { code: ErrorCode.DeadlineExceeded, grpcStatus: 4, httpStatus: 504, clientMessage: 'the request took too long' },
  unauthenticated: { code: ErrorCode.Unauthenticated, grpcStatus: 16, httpStatus: 401, clientMessage: 'authentication required' },
  'permission-denied': { code: ErrorCode.PermissionDenied, grpcStatus: 7, httpStatus: 403, clientMessage: 'permission denied' },
  internal: { code: ErrorCode.Internal, grpcStatus: 13, httpStatus: 500, clientMessage: 'internal error' },
  // A VM exists for a client only once its state record is on disk: these fail (and roll back) the create.
  'state-disk-full': {
    code: ErrorCode.ResourceExhausted,
    grpcStatus: 8,
    httpStatus: 507,
    clientMessage: 'the state disk is full',
    resource: 'state-disk',
    reason: 'STATE_DISK_FULL',
  },
  'state-write-failed': {
    code: ErrorCode.Internal,
    grpcStatus: 13,
    httpStatus: 500,
    clientMessage: 'the VM state could not be saved',
    reason: 'STATE_WRITE_FAILED',
  },
} as const satisfies Record<string, ErrorCatalogueEntry>;

/** One entry of the catalogue: a code, refined where transports answer differently (the two RESOURCE_EXHAUSTED limits). */
export type ErrorKind = keyof typeof ERROR_CATALOGUE;

/**
 * A failure meant for the client: its kind decides every status, its message
 * is shown as is. `detail` is for the operator — host paths, a tool's output —
 * logged by the transports and printed by the manager's own commands, never
 * sent to a client.
 */
export class ManagerError extends Error {
  readonly code: ErrorCode;
  readonly resource: ExhaustedResource | undefined;
  readonly detail: string | undefined;
  /** The entry's stable code, when it has one (`STATE_DISK_FULL`…). */
  readonly reason: string | undefined;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ManagerError';
    const entry: ErrorCatalogueEntry = ERROR_CATALOGUE[kind];
    this.code = entry.code;
    this.resource = entry.resource;
    this.detail = options?.detail;
    this.reason = entry.reason;
  }

  static invalidArgument(message: string): ManagerError {
    return new ManagerError('invalid-argument', message);
  }
  static notFound(message: string): ManagerError {
    return new ManagerError('not-found', message);
  }
  /** Without a resource, the VM count (the limit a caller can wait out). */
  static resourceExhausted(message: string, resource: Exclude<ExhaustedResource, 'state-disk'> = 'vm-capacity'): ManagerError {
    return new ManagerError(resource, message);
  }
  static failedPrecondition(message: string, detail?: string): ManagerError {
    return new ManagerError('failed-precondition', message, detail === undefined ? undefined : { detail });
  }
  static deadlineExceeded(message: string): ManagerError {
    return new ManagerError('deadline-exceeded', message);
  }
  static unauthenticated(message: string): ManagerError {
    return new ManagerError('unauthenticated', message);
  }
  static permissionDenied(message: string): ManagerError {
    return new ManagerError('permission-denied', message);
  }
  static internal(message: string, cause?: unknown): ManagerError {
    return new ManagerError('internal', message, { cause });
  }
}

/** The code of any thrown value: ManagerError keeps its own, the rest is INTERNAL. */
export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof ManagerError ? err.code : ErrorCode.Internal;
}

/** What a transport sends for a failure: the catalogue entry and the message a client may see. */
export interface ClientError extends ErrorCatalogueEntry {
  readonly kind: ErrorKind;
  readonly message: string;
  /** The operator's detail of a ManagerError (for the log only). */
  readonly detail: string | undefined;
  /**
   * True when the failure was no ManagerError (a bug, an unforeseen failure):
   * the client gets the catalogue's generic message and the transport logs
   * the real error.
   */
  readonly unexpected: boolean;
}

/**
 * Any thrown value as the client should see it: a ManagerError with its own
 * message (written for the client; the catalogue's when empty), anything
 * else as INTERNAL with the generic "internal error". An entry's stable
 * `reason` leads the message (`STATE_DISK_FULL: …`), so every transport
 * carries it.
 */
export function clientErrorOf(err: unknown): ClientError {
  const known = err instanceof ManagerError;
  const kind: ErrorKind = known ? err.kind : 'internal';
  const entry: ErrorCatalogueEntry = ERROR_CATALOGUE[kind];
  const text = (known && err.message) || entry.clientMessage;
  const message = entry.reason ? `${entry.reason}: ${text}` : text;
  return { ...entry, kind, message, detail: known ? err.detail : undefined, unexpected: !known };
}
