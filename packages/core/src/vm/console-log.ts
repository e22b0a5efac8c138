import { constants } from 'node:fs';
import { copyFile, lstat, open, rename, rm } from 'node:fs/promises';
import { READ_NOFOLLOW } from './private-dir.js';
import { cutLongLines } from './console-lines.js';

/**
 * A VM's serial console (QEMU's stdout/stderr, opened with O_APPEND). Kept
 * bounded by copy-and-truncate: QEMU keeps its descriptor and, appending,
 * goes on writing at the new end. At most `maxBytes` in the live file plus
 * `keep` rotated files.
 */
export class ConsoleLog {
  constructor(
    readonly path: string,
    readonly maxBytes: number,
    readonly keep = 1,
  ) {}

  rotated(n: number): string {
    return `${this.path}.${n}`;
  }

  /** Rotates when over the limit; true when it did. */
  async rotateIfNeeded(): Promise<boolean> {
    let size: number;
    try {
      const st = await lstat(this.path);
      if (!st.isFile()) return false; // a link planted in its place is never followed
      size = st.size;
    } catch {
      return false;
    }
    if (size <= this.maxBytes) return false;
    for (let n = this.keep; n > 1; n--) {
      await rename(this.rotated(n - 1), this.rotated(n)).catch(() => undefined);
    }
    if (this.keep > 0) {
      // Exclusive copy: a link at the rotated name is removed, never written through.
      await rm(this.rotated(1), { force: true });
      await copyFile(this.path, this.rotated(1), constants.COPYFILE_EXCL);
    }
    const live = await open(this.path, constants.O_WRONLY | constants.O_NOFOLLOW);
    try {
      await live.truncate(0);
    } finally {
      await live.close();
    }
    return true;
  }

  /** The last `maxBytes` of the console, across the rotation boundary; lines over MAX_CONSOLE_LINE in marked pieces. */
  async tail(maxBytes = 64 * 1024): Promise<string> {
    const parts: Buffer[] = [];
    let wanted = maxBytes;
    for (const file of [this.path, ...Array.from({ length: this.keep }, (_, i) => this.rotated(i + 1))]) {
      if (wanted <= 0) break;
      const chunk = await readTail(file, wanted);
      parts.unshift(chunk);
      wanted -= chunk.length;
    }
    return cutLongLines(Buffer.concat(parts).toString('utf8'));
  }

  async remove(): Promise<void> {
    for (let n = 1; n <= this.keep; n++) await rm(this.rotated(n), { force: true });
    await rm(this.path, { force: true });
  }
}

async function readTail(file: string, maxBytes: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file, READ_NOFOLLOW);
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    return buf;
  } finally {
    await handle.close();
  }
}
