import { open, stat } from 'node:fs/promises';
import { READ_NOFOLLOW } from './private-dir.js';

/**
 * Follows a growing console log and hands out whole new lines. Polls the size
 * (cheap, and works whoever writes the file — QEMU holds its own descriptor);
 * a file that shrank was rotated, so reading starts over.
 */
export class ConsoleFollower {
  private offset = 0;
  private partial = '';
  private timer: NodeJS.Timeout | null = null;
  private reading = false;

  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly intervalMs = 200,
  ) {}

  /** Starts following from the current end (earlier output is in the log itself). */
  async start(fromStart = false): Promise<void> {
    this.offset = fromStart ? 0 : await stat(this.file).then((s) => s.size, () => 0);
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
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
      const size = await stat(this.file).then((s) => s.size, () => null);
      if (size === null) return;
      if (size < this.offset) {
        this.offset = 0;
        this.partial = '';
      }
      if (size === this.offset) return;
      const handle = await open(this.file, READ_NOFOLLOW);
      try {
        const length = Math.min(size - this.offset, 1024 * 1024);
        const buf = Buffer.alloc(length);
        await handle.read(buf, 0, length, this.offset);
        this.offset += length;
        const text = this.partial + buf.toString('utf8');
        const lines = text.split(/\r?\n/);
        this.partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') this.onLine(line);
      } finally {
        await handle.close();
      }
    } finally {
      this.reading = false;
    }
  }
}
