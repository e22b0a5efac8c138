import { open, stat } from 'node:fs/promises';
import { READ_NOFOLLOW } from './private-dir.js';

/**
 * Follows a growing console log and hands out whole new lines. Polls the size
 * (cheap, and works whoever writes the file — QEMU holds its own descriptor).
 * A file that shrank was rotated (copy-and-truncate into `rotatedFile`): what
 * was written after the last poll and before the rotation is read from the
 * rotated copy first, then reading starts over in the live file, so a
 * follower misses no line at a rotation.
 */
export class ConsoleFollower {
  private offset = 0;
  private partial = '';
  private timer: NodeJS.Timeout | null = null;
  private reading = false;
  /** Identity of the rotated copy at the last poll: a new one means a rotation happened since. */
  private rotatedSeen = '';

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly intervalMs = 200,
    private readonly rotatedFile = `${file}.1`,
  ) {}

  /** Starts following from the current end (earlier output is in the log itself). */
  async start(fromStart = false): Promise<void> {
    this.offset = fromStart
      ? 0
      : await stat(this.file).then(
          (s) => s.size,
          () => 0,
        );
    this.rotatedSeen = await this.rotatedIdentity();
    this.timer = setInterval(() => {
      this.poll().catch(() => undefined); // a console that cannot be read now is read at the next tick
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reads whatever arrived since the last poll. */
  async poll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const size = await stat(this.file).then(
        (s) => s.size,
        () => null,
      );
      if (size === null) return;
      const rotated = await this.rotatedIdentity();
      if (size < this.offset || rotated !== this.rotatedSeen) {
        // Rotated: the rest of the old content is in the rotated copy, at the same offsets.
        const rotatedSize = await stat(this.rotatedFile).then(
          (s) => s.size,
          () => 0,
        );
        while (this.offset < rotatedSize) this.offset += await this.readFrom(this.rotatedFile, rotatedSize);
        this.offset = 0;
        this.rotatedSeen = rotated;
      }
      if (size > this.offset) this.offset += await this.readFrom(this.file, size);
    } finally {
      this.reading = false;
    }
  }

  /** The rotated copy's inode, mtime and size: rotation writes a new copy each time. */
  private async rotatedIdentity(): Promise<string> {
    return stat(this.rotatedFile).then(
      (s) => `${s.ino}:${s.mtimeMs}:${s.size}`,
      () => '',
    );
  }

  /** Reads `file` from the current offset up to `end` (at most 1 MiB), hands out whole lines; the bytes read. */
  private async readFrom(file: string, end: number): Promise<number> {
    const handle = await open(file, READ_NOFOLLOW);
    try {
      const length = Math.min(end - this.offset, 1024 * 1024);
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, this.offset);
      const text = this.partial + buf.subarray(0, bytesRead).toString('utf8');
      const lines = text.split(/\r?\n/);
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') this.onLine(line);
      return bytesRead || length;
    } finally {
      await handle.close();
    }
  }
}
