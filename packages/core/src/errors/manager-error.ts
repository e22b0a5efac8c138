import { ERROR_CATALOGUE, type ErrorCatalogueEntry, type ErrorCode, type ErrorKind } from './catalogue.js';

/** Typed facts of a failure, for code that must tell failures of one kind apart (never the message). */
export type ErrorFields = Readonly<Record<string, string | number | boolean | null>>;

export interface ManagerErrorOptions {
  readonly cause?: unknown;
  /** For the operator: host paths, a tool's output. Logged and printed by the manager's own commands, never sent to a client. */
  readonly detail?: string;
  readonly fields?: ErrorFields;
}

/**
 * The base class of every error the manager raises. Its kind is a stable
 * code of the catalogue, which decides every status; its message is written
 * for the client (start-up errors: for the operator) and shown as is.
 */
export class ManagerError extends Error {
  /** The status class (gRPC status name). */
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  readonly fields: ErrorFields;

  constructor(
    /** The stable code (`VM_NOT_FOUND`…): what clients and code branch on. */
    readonly kind: ErrorKind,
    message: string,
    options: ManagerErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ManagerError';
    const entry: ErrorCatalogueEntry = ERROR_CATALOGUE[kind];
    this.code = entry.code;
    this.detail = options.detail;
    this.fields = options.fields ?? {};
  }

  /** The stable code, as the wire carries it (`error.reason`, `cocos-error-code`). */
  get reason(): ErrorKind {
    return this.kind;
  }
}

/** The status class of any thrown value: ManagerError keeps its own, the rest is INTERNAL. */
export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof ManagerError ? err.code : ERROR_CATALOGUE.INTERNAL_ERROR.code;
}

/** Whether `err` is a ManagerError of this kind: how code tells one failure from another. */
export function isManagerError(err: unknown, kind: ErrorKind): err is ManagerError {
  return err instanceof ManagerError && err.kind === kind;
}
