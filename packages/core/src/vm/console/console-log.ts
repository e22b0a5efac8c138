import { constants } from 'node:fs';
import { copyFile, lstat, open, rm } from 'node:fs/promises';
import { READ_NOFOLLOW } from '../state/private-dir.js';
import { cutLongLines } from './console-lines.js';

/**
 * A VM's serial console (QEMU's stdout/stderr, opened with O_APPEND). Kept
 * bounded by copy-and-truncate: QEMU keeps its descriptor and, appending,
 * goes on writing at the new end. At most `maxBytes` in the live file plus
 * one rotated copy (`<path>.1`, which the follower reads across a rotation).
 * The VM's directory goes with the VM: nothing here removes files.
 */
export class ConsoleLog {
  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {}

  get rotated(): string {
    return `${this.path}.1`;
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
    // Exclusive copy: a link at the rotated name is removed, never written through.
    await rm(this.rotated, { force: true });
    await copyFile(this.path, this.rotated, constants.COPYFILE_EXCL);
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
    for (const file of [this.path, this.rotated]) {
      if (wanted <= 0) break;
      const chunk = await readTail(file, wanted);
      parts.unshift(chunk);
      wanted -= chunk.length;
    }
    return cutLongLines(Buffer.concat(parts).toString('utf8'));
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
