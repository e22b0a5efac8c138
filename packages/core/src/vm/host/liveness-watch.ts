import { setImmediate as nextTurn } from 'node:timers/promises';
import { pidExists, readStartTimeSync, type ProcessIdentity } from './process-identity.js';

/** Start times read in one turn of the event loop on a full tick (~10 µs each): a thousand take sixteen short turns. */
const READ_BATCH = 64;

export interface LivenessWatchOptions {
  /** Time between two ticks. */
  readonly everyMs?: number;
  /** Every how many ticks each start time is read as well (the ticks between only ask whether the pid exists). */
  readonly fullEvery?: number;
  readonly procRoot?: string;
}

interface Watched {
  readonly identity: ProcessIdentity;
  readonly gone: () => void;
}

/**
 * The safety net for the QEMUs the manager supervises without being their
 * parent (re-adopted after a restart, or left by a spawner that died): no
 * exit event comes for them, and their QMP socket closing — what normally
 * tells — may never come (a VM re-adopted without a working socket). One
 * timer serves all of them, not one each: a thousand re-adopted VMs each
 * reading /proc on its own timer kept a quarter of a core busy and woke the
 * manager 800 times a second.
 *
 * Each tick asks the kernel whether each pid still exists (kill(pid, 0):
 * no file, no thread pool); every `fullEvery`-th tick also reads each start
 * time, which notices a zombie and a pid reused by another process. While
 * nothing is watched there is no timer.
 */
export class LivenessWatch {
  private readonly watched = new Set<Watched>();
  private readonly everyMs: number;
  private readonly fullEvery: number;
  private readonly procRoot: string;
  private timer: NodeJS.Timeout | null = null;
  private ticks = 0;
  private sweeping = false;

  constructor(options: LivenessWatchOptions = {}) {
    this.everyMs = options.everyMs ?? 1000;
    this.fullEvery = options.fullEvery ?? 10;
    this.procRoot = options.procRoot ?? '/proc';
  }

  /** Calls `gone` (once) when `identity` is no longer that running process. Returns what stops watching it. */
  watch(identity: ProcessIdentity, gone: () => void): () => void {
    const entry: Watched = { identity, gone };
    this.watched.add(entry);
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.sweep().catch(() => undefined); // its reads fail as null: it never rejects
      }, this.everyMs);
      this.timer.unref(); // a watch never keeps the process alive on its own
    }
    return () => this.forget(entry);
  }

  /** How many processes are watched (for tests and the bench). */
  get size(): number {
    return this.watched.size;
  }

  /** Stops every watch (the manager leaves its VMs running): no `gone` is called any more. */
  stop(): void {
    this.watched.clear();
    this.stopTimer();
  }

  private forget(entry: Watched): void {
    this.watched.delete(entry);
    if (this.watched.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private end(entry: Watched): void {
    if (!this.watched.has(entry)) return;
    this.forget(entry);
    entry.gone();
  }

  /** One tick; a tick that comes while the last full one still reads waits for the next. */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const entries = [...this.watched];
      for (const entry of entries) if (!pidExists(entry.identity.pid)) this.end(entry);
      if (++this.ticks % this.fullEvery !== 0) return;
      for (let at = 0; at < entries.length; at += READ_BATCH) {
        if (at > 0) await nextTurn(); // the rest of the loop's work runs between two batches
        for (const entry of entries.slice(at, at + READ_BATCH)) {
          if (!this.watched.has(entry)) continue;
          // Null (gone, or a zombie) or another start time (the pid is someone else's now).
          if (readStartTimeSync(entry.identity.pid, this.procRoot) !== entry.identity.startTime) this.end(entry);
        }
      }
    } finally {
      this.sweeping = false;
    }
  }
}
