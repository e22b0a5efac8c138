/** Columns padded to their widest cell: the human view of a list. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `key: value` lines, keys aligned: the human view of one record. */
export function fields(record: object): string {
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  return Object.entries(record)
    .map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v ?? '')}`)
    .join('\n');
}
