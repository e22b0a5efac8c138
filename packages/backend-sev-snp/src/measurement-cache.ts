import { stat } from 'node:fs/promises';

/** Most remembered measurements: one per firmware identity, and firmware changes rarely. */
const MAX_ENTRIES = 16;

/** A file's identity as the measurement depends on it: device, inode, size, mtime ('-' when it cannot be read). */
async function identity(file: string): Promise<string> {
  return stat(file).then(
    (s) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`,
    () => '-',
  );
}

/**
 * Launch measurements by the identity of what they are computed from (the
 * IGVM file and the tool), so every AttestationPolicy call of every VM does
 * not fork a measurement: a result is kept until a file changes, concurrent
 * callers share one measurement, and at most one measurement process runs at
 * a time (500 readers cannot fork 500 processes). A failure is not kept: the
 * next call tries again.
 */
export class MeasurementCache {
  private readonly results = new Map<string, Promise<Buffer>>();
  /** The tail of the one-at-a-time queue of measurements. */
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly measure: (binary: string, file: string) => Promise<Buffer>) {}

  async get(binary: string, file: string): Promise<Buffer> {
    const key = `${await identity(file)}|${await identity(binary)}|${binary}|${file}`;
    const known = this.results.get(key);
    if (known) return known;
    const result = this.running.catch(() => undefined).then(() => this.measure(binary, file));
    this.running = result;
    this.results.set(key, result);
    if (this.results.size > MAX_ENTRIES) this.results.delete(this.results.keys().next().value as string);
    result.catch(() => {
      if (this.results.get(key) === result) this.results.delete(key);
    });
    return result;
  }
}
