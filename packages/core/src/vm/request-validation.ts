import { ManagerError } from '../errors.js';
import { DurationSyntaxError, parseGoDuration } from '../config/duration.js';
import type { CreateVmRequest } from '../api/vm-types.js';
import { PEM_FIELDS, TEXT_FIELDS } from '../api/create-request-fields.js';

/** Upper bounds on request fields: enough for real certificates and URLs, far from memory abuse. */
export const REQUEST_LIMITS = {
  textBytes: 4096,
  pemBytes: 256 * 1024,
  maxTtlMs: 366 * 24 * 3_600_000,
} as const;

/** Fields written as values of the guest's environment file (README: Lifecycle and supervision, the env share). */
const ENV_FILE_FIELDS = TEXT_FIELDS.filter((f) => f.env !== undefined && typeof f.env.write === 'string');

/**
 * What a systemd EnvironmentFile (quotes, backslash escapes, `$` expansion)
 * or a shell sourcing the file (quotes, expansions, command separators,
 * redirections, tilde) would read differently from the literal value. With
 * these refused, `KEY=value` means the same to both, unquoted.
 */
export const UNSAFE_IN_ENV_FILE = /[\s\\'"$`;&|<>()~]/;

export interface ValidatedRequest {
  /** TTL in milliseconds, or null for none. */
  readonly ttlMs: number | null;
}

/**
 * Checks a whole CreateVm request before anything is created. Values end up
 * as lines of the guest's environment file and on the kernel command line, so
 * line breaks (which would smuggle in extra variables) and, for the kernel
 * parameter, whitespace (extra kernel parameters) are refused.
 */
export function validateCreateRequest(req: CreateVmRequest): ValidatedRequest {
  for (const { key, wire } of TEXT_FIELDS) {
    const value = req[key];
    if (Buffer.byteLength(value, 'utf8') > REQUEST_LIMITS.textBytes) {
      throw new ManagerError(
        'REQUEST_FIELD_INVALID',
        `${wire} is ${Buffer.byteLength(value, 'utf8')} bytes; at most ${REQUEST_LIMITS.textBytes} are accepted`,
        {
          fields: { field: wire },
        },
      );
    }
    if (/[\u0000-\u001f\u007f]/.test(value)) {
      throw new ManagerError('REQUEST_FIELD_INVALID', `${wire} contains a control character (line break, NUL, …); only printable text is accepted`, {
        fields: { field: wire },
      });
    }
  }
  for (const { key, wire } of PEM_FIELDS) {
    if (req[key].byteLength > REQUEST_LIMITS.pemBytes) {
      throw new ManagerError('REQUEST_FIELD_INVALID', `${wire} is ${req[key].byteLength} bytes; at most ${REQUEST_LIMITS.pemBytes} are accepted`, {
        fields: { field: wire },
      });
    }
  }
  // Printable ASCII without space or '"': the kernel splits its command line
  // on spaces, on byte 0xA0 (inside UTF-8 characters such as "†") and at
  // quotes, so anything else could smuggle in parameters such as init=.
  if (!/^[\x21\x23-\x7e]*$/.test(req.aaKbsParams)) {
    throw new ManagerError(
      'REQUEST_FIELD_INVALID',
      "aa_kbs_params must be printable ASCII without spaces or '\"': it is appended to the kernel command line as exactly one parameter",
      { fields: { field: 'aa_kbs_params' } },
    );
  }
  for (const { key, wire } of ENV_FILE_FIELDS) {
    const bad = UNSAFE_IN_ENV_FILE.exec(req[key]);
    if (bad) {
      throw new ManagerError(
        'REQUEST_FIELD_INVALID',
        `${wire} contains ${JSON.stringify(bad[0])}: values of the guest's environment file must not contain whitespace or any of \\ ' " $ \` ; & | < > ( ) ~ (a shell or systemd would misread them)`,
        { fields: { field: wire } },
      );
    }
  }
  return { ttlMs: parseTtl(req.ttl) };
}

function parseTtl(ttl: string): number | null {
  if (ttl === '') return null;
  let ms: number;
  try {
    ms = parseGoDuration(ttl);
  } catch (err) {
    if (err instanceof DurationSyntaxError) throw new ManagerError('TTL_INVALID', `ttl: ${err.message}`, { fields: { field: 'ttl' } });
    throw err;
  }
  if (ms <= 0) throw new ManagerError('TTL_INVALID', `ttl ${JSON.stringify(ttl)} must be positive`, { fields: { field: 'ttl' } });
  if (ms > REQUEST_LIMITS.maxTtlMs)
    throw new ManagerError('TTL_INVALID', `ttl ${JSON.stringify(ttl)} is longer than the maximum of 8784h (366 days)`, {
      fields: { field: 'ttl' },
    });
  return ms;
}
