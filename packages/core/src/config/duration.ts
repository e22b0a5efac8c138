import { ManagerError } from '../errors.js';

/**
 * Go `time.ParseDuration` syntax (`90s`, `1h30m`, `1.5h`, `300ms`, `-2m`), the
 * format of CreateReq.ttl on the wire. Returns milliseconds (fractions of a
 * millisecond kept). Throws with the expected syntax on anything else.
 */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 micro sign
  μs: 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const SYNTAX = 'a Go duration such as 90s, 1h30m or 1.5h (units ns, us, ms, s, m, h)';

/** Not a Go duration (CONFIG_INVALID; a request's ttl turns it into TTL_INVALID). */
export class DurationSyntaxError extends ManagerError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

export function parseGoDuration(text: string): number {
  const fail = (): never => {
    throw new DurationSyntaxError(`invalid duration ${JSON.stringify(text)}: expected ${SYNTAX}`);
  };
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') fail();
  let total = 0;
  const part = /^(\d*)(?:\.(\d*))?([a-zµμ]+)/;
  while (rest.length > 0) {
    const m = part.exec(rest);
    if (!m) return fail();
    const [whole, intPart = '', fracPart] = m;
    const unit = m[3] as string;
    if (intPart === '' && (fracPart === undefined || fracPart === '')) fail();
    const scale = UNIT_MS[unit];
    if (scale === undefined) fail();
    const value = Number(`${intPart || '0'}.${fracPart ?? '0'}`);
    total += value * (scale as number);
    rest = rest.slice(whole.length);
  }
  if (!Number.isFinite(total)) fail();
  return sign * total;
}
