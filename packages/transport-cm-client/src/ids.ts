import { CM_LIMITS } from './limits.js';

/**
 * Whether `value` is an id the client acts on and echoes: a string of 1 to
 * CM_LIMITS.maxIdBytes UTF-8 bytes without control characters. Anything
 * else from Computation Management is refused before it names a computation.
 */
export function isValidId(value: unknown): value is string {
  return (
    typeof value === 'string' && value.length > 0 && Buffer.byteLength(value, 'utf8') <= CM_LIMITS.maxIdBytes && !/[\u0000-\u001f\u007f-\u009f]/.test(value)
  );
}

/** An id (or any server text) as a log line may show it: at most `max` characters, quoted. */
export function shown(value: unknown, max = 64): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
