import type { Logger } from 'pino';
import { clientErrorOf, type ManagerError } from '../../errors.js';
import type { PreparedRecord, StateStore, VmStateRecord } from './state-store.js';
import { stateWriteError } from './state-write-error.js';

/** How long a failed write waits before the next try: doubling from `firstMs` up to `maxMs`. */
export interface StateRetryBackoff {
  readonly firstMs: number;
  readonly maxMs: number;
}

export const DEFAULT_STATE_RETRY: StateRetryBackoff = { firstMs: 100, maxMs: 30_000 };

interface Failure {
  readonly error: ManagerError;
  readonly since: Date;
  readonly attempts: number;
}

/**
 * Writes one VM's state record: in order, the latest state each time (a
 * change made while a write runs is written next). A write that fails
 * during the create is the create's failure (`durable` rejects and the
 * create rolls back); once a client knows the VM (`retryFailures`), a
 * failed write is retried with backoff until one succeeds — logged,
 * counted by the store, and shown on the VM (`problem`) meanwhile, never
 * dropped.
 */
export class VmStateWriter {
  /** Changes asked for, and the last of them known to be on disk. */
  private version = 0;
  private savedVersion = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: Failure | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retrying = false;
  private closed = false;
  /** The record as the state file holds it (written here, or as loaded at re-adoption): a state equal to it is not written again. */
  private onDisk: string | null = null;
  /** A record written ahead (`prepare`) and the text it holds: when the state becomes that, only its rename is left. */
  private ahead: { readonly text: string; readonly file: PreparedRecord } | null = null;

  constructor(
    private readonly store: StateStore,
    private readonly snapshot: () => VmStateRecord,
    private readonly logger: Logger,
    private readonly backoff: StateRetryBackoff = DEFAULT_STATE_RETRY,
  ) {}

  /** The state changed: write it (after any write under way). */
  save(): void {
    if (this.closed) return;
    this.version++;
    this.enqueue();
  }

  /** The record as it was loaded from the state directory: until the state differs from it, nothing needs writing. */
  loadedAs(record: VmStateRecord): void {
    this.onDisk = JSON.stringify(record);
  }

  /**
   * Writes `record`, the state expected next, to its temporary file now
   * (after the writes asked for so far), so that when it is the state only
   * the rename is left. A later state that differs discards it and is
   * written whole. A failure here is not reported: the write of that state,
   * if it comes, fails the same way and says so.
   */
  prepare(record: VmStateRecord): void {
    if (this.closed) return;
    this.chain = this.chain.then(async () => {
      await this.dropAhead();
      const text = JSON.stringify(record);
      // Only while the file holds the current state: a state written since (this one, or past it) needs nothing ahead.
      if (this.closed || this.dirty || text === this.onDisk || JSON.stringify(this.snapshot()) !== this.onDisk) return;
      try {
        this.ahead = { text, file: await this.store.prepare(record) };
      } catch {
        // Written whole when it is the state; its failure is that write's.
      }
    });
  }

  /** From now on a failed write is retried (and surfaced), not a failure of the caller. */
  retryFailures(): void {
    this.retrying = true;
    if (this.dirty && this.failure && !this.retryTimer && !this.closed) this.scheduleRetry();
  }

  /** Resolves once the latest state is on disk; rejects with the catalogue error of the write that failed. */
  async durable(): Promise<void> {
    await this.settled();
    if (this.dirty && !this.closed) throw this.failure?.error ?? stateWriteError(new Error('the state record was not written'), 'write');
  }

  /** Waits for the writes asked for so far (a retry that was waiting is tried now); never rejects. */
  async flushed(): Promise<void> {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.enqueue();
    }
    await this.settled();
  }

  /** No more writes (the VM is forgotten, or the manager leaves it); resolves once the one under way is done. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.settled();
    await this.dropAhead();
  }

  private async dropAhead(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead) await this.store.discard(ahead.file);
  }

  /** Why the VM's latest state is not on disk, for the API (null when it is). */
  problem(): string | null {
    const f = this.failure;
    if (!f || !this.dirty) return null;
    return `${clientErrorOf(f.error).message}; ${f.attempts} failed attempt${f.attempts === 1 ? '' : 's'} since ${f.since.toISOString()}, retrying`;
  }

  /** Whether the latest state is not known to be on disk. */
  private get dirty(): boolean {
    return this.savedVersion !== this.version;
  }

  private enqueue(): void {
    this.chain = this.chain.then(() => this.attempt());
  }

  private async settled(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.chain;
      await seen;
    } while (seen !== this.chain);
  }

  private async attempt(): Promise<void> {
    if (!this.dirty || this.closed) return;
    const version = this.version;
    try {
      const record = this.snapshot();
      const text = JSON.stringify(record);
      // A re-adopted VM's record is usually what its file already says: a thousand VMs, two thousand fsyncs saved.
      if (text !== this.onDisk) {
        const ahead = this.ahead;
        this.ahead = null;
        if (ahead?.text === text) await this.store.commit(ahead.file);
        else {
          if (ahead) await this.store.discard(ahead.file);
          await this.store.save(record);
        }
      }
      this.onDisk = text;
      this.savedVersion = Math.max(this.savedVersion, version);
      if (this.failure) {
        this.logger.info({ failedAttempts: this.failure.attempts, since: this.failure.since.toISOString() }, 'VM state written after failed attempts');
        this.failure = null;
      }
    } catch (err) {
      // Still not on disk: the next save, or the retry, writes the latest state.
      const error = stateWriteError(err, 'write');
      const previous = this.failure;
      this.failure = { error, since: previous?.since ?? new Date(), attempts: (previous?.attempts ?? 0) + 1 };
      if (this.retrying && !this.closed) {
        const delayMs = this.scheduleRetry();
        this.logger.error(
          {
            code: error.reason,
            reason: error.message,
            cause: (error.cause as Error | undefined)?.message,
            attempts: this.failure.attempts,
            retryInMs: delayMs,
          },
          'writing VM state failed; retrying',
        );
      }
    }
  }

  private scheduleRetry(): number {
    const attempts = this.failure?.attempts ?? 1;
    const delayMs = Math.min(this.backoff.maxMs, this.backoff.firstMs * 2 ** Math.min(attempts - 1, 30));
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.enqueue();
    }, delayMs);
    // A retry never keeps the process alive on its own.
    this.retryTimer.unref();
    return delayMs;
  }
}
