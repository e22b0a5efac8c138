import { closeSync, constants, ftruncateSync, openSync, readSync, statSync, writeSync } from 'node:fs';
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
    const live = await open(this.path, constants.O_RDWR | constants.O_NOFOLLOW);
    try {
      await copyFile(this.path, this.rotated, constants.COPYFILE_EXCL);
      // QEMU goes on appending while we copy: what it wrote since is moved over
      // and the file truncated in one synchronous run, so no event-loop turn
      // (and no awaited I/O) sits between the last read and the truncate.
      moveTailAndTruncate(live.fd, this.rotated);
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

/** Appends what `fd` holds past the rotated copy's length to the copy, then truncates `fd` (synchronous on purpose: see rotateIfNeeded). */
function moveTailAndTruncate(fd: number, rotated: string): void {
  let position = statSync(rotated).size;
  const out = openSync(rotated, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
  try {
    const chunk = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, position);
      if (n === 0) break;
      writeSync(out, chunk, 0, n);
      position += n;
    }
    ftruncateSync(fd, 0);
  } finally {
    closeSync(out);
  }
}
