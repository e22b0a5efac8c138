/** One histogram from Prometheus text, its label sets summed: cumulative counts by upper bound, total, sum. */
export interface Histogram {
  readonly bounds: number[];
  readonly cumulative: number[];
  readonly count: number;
  readonly sum: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/;

export function parseHistogram(text: string, name: string, only: Record<string, string> = {}): Histogram {
  const buckets = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || !m[1]!.startsWith(name)) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(only).some(([k, v]) => labels[k] !== v)) continue;
    const value = Number(m[3]);
    if (m[1] === `${name}_bucket`) {
      const le = labels['le'] === '+Inf' ? Infinity : Number(labels['le']);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
    } else if (m[1] === `${name}_count`) count += value;
    else if (m[1] === `${name}_sum`) sum += value;
  }
  const bounds = [...buckets.keys()].filter(Number.isFinite).sort((a, b) => a - b);
  return { bounds, cumulative: bounds.map((b) => buckets.get(b) ?? 0), count, sum };
}
