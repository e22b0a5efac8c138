import { parseGoDuration } from './duration.js';

import type { SettingFormat } from '../api/settings.js';
import { ManagerError } from '../errors.js';

export type { SettingFormat };

class InvalidValue extends ManagerError {
  constructor(expected: string) {
    super('CONFIG_INVALID', expected);
  }
}

function format<T>(expected: string, parse: (raw: unknown) => T | undefined): SettingFormat<T> {
  return {
    expected,
    parse(raw) {
      const value = parse(raw);
      if (value === undefined) throw new InvalidValue(expected);
      return value;
    },
  };
}

const asText = (raw: unknown): string | undefined =>
  typeof raw === 'string' ? raw.trim() : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;

function parseInteger(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : undefined;
  const text = asText(raw);
  return text !== undefined && /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
}

export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): SettingFormat<number> {
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `between ${min} and ${max}`;
  return format(`an integer ${range}`, (raw) => {
    const n = parseInteger(raw);
    return n !== undefined && n >= min && n <= max ? n : undefined;
  });
}

export const port = format('a TCP port number between 1 and 65535', (raw) => {
  const n = parseInteger(raw);
  return n !== undefined && n >= 1 && n <= 65535 ? n : undefined;
});

/** A port to listen on; 0 asks the OS for a free one (handy for tests and side-by-side instances). */
export const listenPort = format('a TCP port number between 0 and 65535 (0 = any free port)', (raw) => {
  const n = parseInteger(raw);
  return n !== undefined && n >= 0 && n <= 65535 ? n : undefined;
});

const TRUE = new Set(['1', 't', 'true']);
const FALSE = new Set(['0', 'f', 'false']);

/** Booleans as Go's strconv.ParseBool reads them (1, t, true, 0, f, false; any case). */
export const boolean = format('a boolean (true or false)', (raw) => {
  if (typeof raw === 'boolean') return raw;
  const text = asText(raw)?.toLowerCase();
  if (text === undefined) return undefined;
  return TRUE.has(text) ? true : FALSE.has(text) ? false : undefined;
});

/** A boolean that may be left unset, meaning "decide for me" (auto-detection). */
export const optionalBoolean: SettingFormat<boolean | null> = format<boolean | null>('a boolean (true or false), or empty for automatic', (raw) => {
  if (raw === null || raw === undefined || raw === '') return null;
  try {
    return boolean.parse(raw);
  } catch {
    return undefined;
  }
});

/** An on/off switch written verbatim into a QEMU property. */
export const qemuSwitch = format('a QEMU switch: on, off, true, false, yes or no', (raw) => {
  const text = asText(raw);
  return text !== undefined && /^(on|off|true|false|yes|no)$/.test(text) ? text : undefined;
});

/** A memory size as QEMU's -m and memory backends take it, kept verbatim. */
export const memorySize = format('a memory size such as 2048M, 4G or 30G (a number with an optional K, M, G or T suffix)', (raw) => {
  const text = asText(raw);
  if (text === undefined || !/^\d+(\.\d+)?[KMGT]?$/i.test(text)) return undefined;
  return Number.parseFloat(text) > 0 ? text : undefined;
});

export interface PortRange {
  readonly first: number;
  readonly last: number;
}

export const portRange = format<PortRange>('a port range FIRST-LAST such as 6100-6200, with 1 ≤ FIRST ≤ LAST ≤ 65535', (raw) => {
  if (typeof raw === 'object' && raw !== null && 'first' in raw && 'last' in raw) return raw as PortRange;
  const m = /^(\d+)-(\d+)$/.exec(asText(raw) ?? '');
  if (!m) return undefined;
  const first = Number(m[1]);
  const last = Number(m[2]);
  return first >= 1 && first <= last && last <= 65535 ? { first, last } : undefined;
});

export function oneOf<T extends string>(values: readonly T[]): SettingFormat<T> {
  // Case-insensitive, answering the value as listed: `Milan`, `milan` and `MILAN` are all `Milan`.
  return format(`one of ${values.join(', ')}`, (raw) => {
    const text = asText(raw)?.toLowerCase();
    return values.find((v) => v.toLowerCase() === text);
  });
}

/** Any text, kept verbatim (paths, ids, QEMU strings that QEMU itself checks). */
export const text = format('a string', (raw) => asText(raw) ?? (raw === null ? '' : undefined));

/** Text that must not be empty. */
export const nonEmptyText = format('a non-empty string', (raw) => {
  const t = asText(raw);
  return t ? t : undefined;
});

/** A QEMU identifier (ids of netdevs, objects, drives). */
export const qemuId = format('a QEMU id: a letter followed by letters, digits, -, . or _', (raw) => {
  const t = asText(raw);
  return t !== undefined && /^[A-Za-z][A-Za-z0-9._-]*$/.test(t) ? t : undefined;
});

/** A positive Go duration, returned in milliseconds. */
export const duration = format('a positive Go duration such as 10s, 1m30s or 1h', (raw) => {
  if (typeof raw === 'number') return raw > 0 ? raw : undefined;
  const t = asText(raw);
  if (!t) return undefined;
  try {
    const ms = parseGoDuration(t);
    return ms > 0 ? ms : undefined;
  } catch {
    return undefined;
  }
});

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const logLevel = oneOf(LOG_LEVELS);

/** A duration that may be zero (0 disables the step it times). Milliseconds. */
export const durationOrZero = format('a Go duration such as 0s, 10s or 1m30s', (raw) => {
  if (typeof raw === 'number') return raw >= 0 ? raw : undefined;
  const t = asText(raw);
  if (!t) return undefined;
  try {
    const ms = parseGoDuration(t);
    return ms >= 0 ? ms : undefined;
  } catch {
    return undefined;
  }
});

const BYTE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** A size in bytes written like 512K, 1M or 2G (binary units). */
export const byteSize = format('a size such as 512K, 1M or 2G', (raw) => {
  if (typeof raw === 'number') return raw > 0 ? raw : undefined;
  const m = /^(\d+)([KMGT]?)i?B?$/i.exec(asText(raw) ?? '');
  if (!m) return undefined;
  const bytes = Number(m[1]) * (BYTE_UNITS[(m[2] ?? '').toUpperCase()] ?? 1);
  return bytes > 0 ? bytes : undefined;
});

/** Hex of exactly `bytes` bytes (an optional 0x prefix), or empty when not set. Kept as lower-case hex. */
export function hexBytes(bytes: number, what: string): SettingFormat<string> {
  return format(`${what}: ${bytes * 2} hex digits (${bytes} bytes), or empty`, (raw) => {
    const t = (asText(raw) ?? '').replace(/^0x/i, '').toLowerCase();
    if (t === '') return '';
    return /^[0-9a-f]+$/.test(t) && t.length === bytes * 2 ? t : undefined;
  });
}

/** A non-negative integer that may exceed 2^53 (policy words), kept as a decimal string. */
export const unsignedDecimal = format('a non-negative integer (decimal, or hex with 0x)', (raw) => {
  const t = asText(raw) ?? '';
  try {
    if (/^0x[0-9a-f]+$/i.test(t) || /^\d+$/.test(t)) return BigInt(t).toString();
  } catch {
    return undefined;
  }
  return undefined;
});

/** A share between 0 and 1. */
export const ratio = format('a number from 0 to 1, such as 0.1 or 1.0', (raw) => {
  const t = asText(raw) ?? '';
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 0 && n <= 1 ? n : undefined;
});
