import { stat } from 'node:fs/promises';

/** A file as the cache knows it: device, inode, size and modification time (ns). */
async function identity(file: string): Promise<string | null> {
  try {
    const s = await stat(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return null; // measuring it will name the problem
  }
}

/**
 * Results per input-file identity and parameters, with one computation in
 * flight per key: concurrent callers share it. A file that changes while it
 * is measured is measured again next time; failures are not kept.
 */
export class MeasurementCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  constructor(private readonly capacity = 64) {}

  async get(files: readonly string[], parameters: string, compute: () => Promise<T>): Promise<T> {
    const before = await Promise.all(files.map(identity));
    if (before.some((id) => id === null)) return compute();
    const key = JSON.stringify([before, parameters]);
    const known = this.entries.get(key);
    if (known) return known;
    const pending = compute();
    this.entries.set(key, pending);
    try {
      const value = await pending;
      const after = await Promise.all(files.map(identity));
      if (JSON.stringify(after) !== JSON.stringify(before)) this.entries.delete(key);
      this.evict();
      return value;
    } catch (err) {
      this.entries.delete(key);
      throw err;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(): void {
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}
