/** "3m 12s", "2h 5m", "4d 1h": the largest two units. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  const units: [number, string][] = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [size, name] of units) {
    if (rest >= size || (name === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${name}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

export const age = (iso: string, now: number) => (iso ? duration(now - Date.parse(iso)) : '');
export const ttlLeft = (iso: string, now: number) => (iso ? (Date.parse(iso) <= now ? 'expired' : duration(Date.parse(iso) - now)) : '—');

/** Go duration syntax, as the API checks a TTL: "90s", "1h30m", "2.5h" (positive, at most 8784h). */
export function ttlProblem(ttl: string): string | null {
  if (ttl === '') return null;
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(ttl)) return 'a Go duration such as 90s, 45m or 1h30m';
  const ms: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of ttl.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * (ms[m[2]!] ?? 0);
  if (total <= 0) return 'must be positive';
  if (total > 8784 * 3_600_000) return 'at most 8784h (366 days)';
  return null;
}

export const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export function base64Bytes(text: string): Uint8Array {
  const raw = atob(text);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}
