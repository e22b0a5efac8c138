import { watch, type FSWatcher } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { CONSOLE_CUT_MARK, MAX_CONSOLE_LINE } from './console-lines.js';
import { READ_NOFOLLOW } from '../state/private-dir.js';

/**
 * Bytes read at a time: small enough that a burst costs little memory per
 * read (and the pieces cut from it keep no large string alive), large
 * enough that a console flood is a few reads.
 */
const READ_CHUNK = 16 * 1024;

/** What a follower needs to keep its console bounded: the rotation it runs between its own reads. */
export interface ConsoleRotation {
  readonly maxBytes: number;
  /** Copy-and-truncate into `rotatedFile`; true when it rotated. */
  rotateIfNeeded(): Promise<boolean>;
}

/**
 * Follows a growing console log and hands out whole new lines. Event-driven:
 * an inotify watch on the file (QEMU writes it through its own descriptor)
 * wakes the follower, so an idle VM costs nothing — no timer per VM.
 *
 * The follower also rotates the log when it outgrew its limit, between two of
 * its reads: after copy-and-truncate it reads the copy from where it stopped
 * (what QEMU wrote meanwhile), then starts over in the live file — no line is
 * missed or handed out twice. A rotation done by someone else is noticed by
 * the live file shrinking or a new rotated copy, and read the same way.
 */
export class ConsoleFollower {
  private offset = 0;
  /** The unterminated end of the last read: never longer than MAX_CONSOLE_LINE. */
  private partial = '';
  /** Keeps a UTF-8 sequence split across two reads whole. */
  private decoder = new StringDecoder('utf8');
  private watcher: FSWatcher | null = null;
  private reading: Promise<void> | null = null;
  /** A change arrived while reading: read again once the current read ends. */
  private again = false;
  /** Identity of the rotated copy at the last read: a new one means a rotation happened since. */
  private rotatedSeen = '';

  constructor(
    private readonly file: string,
    /** A line, or a piece of one (`cut`: the line continues in the next piece). */
    private readonly onLine: (line: string, cut: boolean) => void,
    private readonly rotation: ConsoleRotation | null = null,
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
    this.watcher = watch(this.file, { persistent: false }, () => this.changed());
    // A file that cannot be watched any more (removed with its VM) ends the watch; the exit handler reads the rest.
    this.watcher.on('error', () => this.stop());
    // Whatever was written between the stat above and the watch.
    this.changed();
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private changed(): void {
    this.poll().catch(() => undefined); // a console that cannot be read now is read at its next change
  }

  /** Reads whatever arrived since the last read (changes during a read are read right after it). */
  async poll(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = this.readAll();
    try {
      await this.reading;
    } finally {
      this.reading = null;
    }
  }

  private async readAll(): Promise<void> {
    do {
      this.again = false;
      await this.readOnce();
    } while (this.again);
  }

  private async readOnce(): Promise<void> {
    const size = await sizeOf(this.file);
    if (size === null) return;
    const rotated = await this.rotatedIdentity();
    if (size < this.offset || rotated !== this.rotatedSeen) await this.continueInRotatedCopy(rotated);
    await this.readUpTo(this.file, size);
    if (this.rotation && size > this.rotation.maxBytes && (await this.rotation.rotateIfNeeded())) {
      await this.continueInRotatedCopy(await this.rotatedIdentity());
      await this.readUpTo(this.file, (await sizeOf(this.file)) ?? 0);
    }
  }

  /** The live file was rotated: the rest of the old content is in the rotated copy, at the same offsets. */
  private async continueInRotatedCopy(identity: string): Promise<void> {
    // A copy that cannot be read safely (a link planted in its place is never followed) is skipped, not retried forever.
    await this.readUpTo(this.rotatedFile, (await sizeOf(this.rotatedFile)) ?? 0).catch(() => undefined);
    this.offset = 0;
    this.decoder = new StringDecoder('utf8');
    this.rotatedSeen = identity;
  }

  /** The rotated copy's inode, mtime and size: rotation writes a new copy each time. */
  private async rotatedIdentity(): Promise<string> {
    return lstat(this.rotatedFile).then(
      (s) => `${s.ino}:${s.mtimeMs}:${s.size}`,
      () => '',
    );
  }

  /** Reads `file` from the current offset up to `end`; stops early at the file's end (it was truncated meanwhile: read at the next change). */
  private async readUpTo(file: string, end: number): Promise<void> {
    while (this.offset < end) {
      const read = await this.readFrom(file, end);
      if (read === 0) return;
      this.offset += read;
    }
  }

  /** Reads `file` from the current offset up to `end` (at most READ_CHUNK), hands out whole lines; the bytes read. */
  private async readFrom(file: string, end: number): Promise<number> {
    const handle = await open(file, READ_NOFOLLOW);
    try {
      const length = Math.min(end - this.offset, READ_CHUNK);
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, this.offset);
      const lines = (this.partial + this.decoder.write(buf.subarray(0, bytesRead))).split(/\r?\n/);
      const rest = lines.pop() ?? '';
      for (const line of lines) this.handOut(line, true);
      this.partial = this.handOut(rest, false);
      return bytesRead;
    } finally {
      await handle.close();
    }
  }

  /**
   * Hands out `line` in pieces of at most MAX_CONSOLE_LINE (all but the last
   * marked as cut). A complete line's last piece is handed out too (unless
   * blank); an incomplete line's is returned, to be continued by the next read.
   */
  private handOut(line: string, complete: boolean): string {
    let rest = line;
    while (rest.length > MAX_CONSOLE_LINE) {
      this.onLine(rest.slice(0, MAX_CONSOLE_LINE) + CONSOLE_CUT_MARK, true);
      rest = rest.slice(MAX_CONSOLE_LINE);
    }
    if (!complete) return rest;
    if (rest.trim() !== '') this.onLine(rest, false);
    return '';
  }
}

function sizeOf(file: string): Promise<number | null> {
  return stat(file).then(
    (s) => s.size,
    () => null,
  );
}
