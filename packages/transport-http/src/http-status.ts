import { clientErrorOf, ManagerError, type ErrorKind } from '@cocos-manager/core';

export interface HttpFailure {
  status: number;
  /** `code`: the status class (NOT_FOUND…); `reason`: the stable code of the failure (VM_NOT_FOUND…, docs/errors.md). */
  body: { error: { code: string; reason: string; message: string; field?: string } };
  /** No ManagerError: the client got the generic message, the real error belongs in the log. */
  unexpected: boolean;
}

/** A service failure as an HTTP status and a JSON body naming the code and what was wrong (core's error catalogue). */
export function toHttpError(err: unknown): HttpFailure {
  const { httpStatus, code, reason, message, field, unexpected } = clientErrorOf(err);
  return { status: httpStatus, body: { error: { code, reason, message, ...(field === undefined ? {} : { field }) } }, unexpected };
}

/** Fastify's own refusals by their status; any other 4xx of Fastify's is a bad request. */
const FASTIFY_REFUSALS: Readonly<Record<number, ErrorKind>> = { 413: 'REQUEST_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' };

/**
 * Fastify refuses some requests itself (malformed JSON, body too large,
 * unknown content type) with a 4xx `statusCode`: those become catalogue
 * errors with Fastify's message. Anything else is returned as it is.
 */
export function fromFastifyRefusal(err: unknown): unknown {
  const statusCode = (err as { statusCode?: unknown } | null)?.statusCode;
  if (err instanceof ManagerError || !(err instanceof Error) || typeof statusCode !== 'number' || statusCode < 400 || statusCode >= 500) return err;
  return new ManagerError(FASTIFY_REFUSALS[statusCode] ?? 'REQUEST_BODY_INVALID', err.message);
}
