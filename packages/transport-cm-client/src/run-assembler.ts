import type { RunReqChunks } from '@cocos-manager/contract';
import { isValidId } from './ids.js';
import type { CmLimits } from './limits.js';

/** What one chunk did. */
export type ChunkOutcome =
  /** Kept; more are expected. */
  | { readonly kind: 'partial' }
  /** The last chunk: the run's bytes, in order. */
  | { readonly kind: 'complete'; readonly id: string; readonly bytes: Buffer }
  /** The run is refused (and forgotten): report it failed under `id`. */
  | { readonly kind: 'rejected'; readonly id: string; readonly reason: string }
  /** A chunk of a run refused earlier, or with an id that is no id: dropped without a report. */
  | { readonly kind: 'ignored'; readonly reason: string };

export type AssemblerLimits = Pick<CmLimits, 'maxRunBytes' | 'maxPartialRuns' | 'maxPartialBytes' | 'partialIdleMs'>;

interface Partial {
  readonly parts: Buffer[];
  bytes: number;
  lastChunkAt: number;
}

/**
 * Reassembles run requests sent as RunReqChunks (1 MiB pieces of the
 * marshalled ComputationRunReq, keyed by id, closed by a chunk with
 * `is_last`), one assembler per stream. Bounded: each run's bytes, the
 * number of runs arriving at once and their bytes together; a run that gets
 * no chunk for `partialIdleMs` is dropped by `sweep`. A refused run's id is
 * remembered (bounded, as long as a partial run would be) so its remaining
 * chunks are dropped quietly instead of starting a run of their own.
 */
export class RunAssembler {
  private readonly partials = new Map<string, Partial>();
  /** Ids of refused runs whose last chunk has not come: their chunks are ignored. */
  private readonly refused = new Map<string, number>();
  private heldBytes = 0;

  constructor(
    private readonly limits: AssemblerLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs whose chunks are arriving. */
  get partialRuns(): number {
    return this.partials.size;
  }

  /** Bytes the partial runs hold. */
  get partialBytes(): number {
    return this.heldBytes;
  }

  add(chunk: Pick<RunReqChunks, 'id' | 'data' | 'is_last'>): ChunkOutcome {
    const { id, data, is_last: last } = chunk;
    if (!isValidId(id)) return { kind: 'ignored', reason: 'a chunk without a valid id' };
    const at = this.now();
    if (this.refused.has(id)) {
      if (last) this.refused.delete(id);
      else this.refused.set(id, at);
      return { kind: 'ignored', reason: 'a chunk of a refused run' };
    }
    let partial = this.partials.get(id);
    if (!partial) {
      if (last) {
        if (data.byteLength === 0) return { kind: 'rejected', id, reason: 'the run request is empty (a last chunk without data or earlier chunks)' };
        if (data.byteLength > this.limits.maxRunBytes) return { kind: 'rejected', id, reason: this.overRun(data.byteLength) };
        return { kind: 'complete', id, bytes: Buffer.from(data) };
      }
      if (this.partials.size >= this.limits.maxPartialRuns) {
        return this.refuse(id, at, `${this.limits.maxPartialRuns} run requests are arriving already; this one is refused`);
      }
      partial = { parts: [], bytes: 0, lastChunkAt: at };
      this.partials.set(id, partial);
    }
    if (partial.bytes + data.byteLength > this.limits.maxRunBytes) return this.refuse(id, at, this.overRun(partial.bytes + data.byteLength));
    if (this.heldBytes + data.byteLength > this.limits.maxPartialBytes) {
      return this.refuse(id, at, `the run requests arriving at once would hold more than ${this.limits.maxPartialBytes} bytes; this one is refused`);
    }
    if (data.byteLength > 0) {
      partial.parts.push(Buffer.from(data));
      partial.bytes += data.byteLength;
      this.heldBytes += data.byteLength;
    }
    partial.lastChunkAt = at;
    if (!last) return { kind: 'partial' };
    this.drop(id);
    return { kind: 'complete', id, bytes: Buffer.concat(partial.parts, partial.bytes) };
  }

  /** Drops the partial runs idle for `partialIdleMs` (and expired refusals); returns the dropped runs' ids. */
  sweep(): string[] {
    const at = this.now();
    const idle = this.limits.partialIdleMs;
    const dropped: string[] = [];
    for (const [id, partial] of this.partials) {
      if (at - partial.lastChunkAt >= idle) {
        this.drop(id);
        dropped.push(id);
      }
    }
    for (const [id, seen] of this.refused) if (at - seen >= idle) this.refused.delete(id);
    return dropped;
  }

  /** Forgets everything (the stream ended); returns the ids of the runs that were still arriving. */
  clear(): string[] {
    const ids = [...this.partials.keys()];
    this.partials.clear();
    this.refused.clear();
    this.heldBytes = 0;
    return ids;
  }

  private overRun(bytes: number): string {
    return `the run request is larger than ${this.limits.maxRunBytes} bytes (${bytes} so far)`;
  }

  private refuse(id: string, at: number, reason: string): ChunkOutcome {
    this.drop(id);
    // As many refusals are remembered as runs may arrive at once: the oldest goes first.
    if (this.refused.size >= this.limits.maxPartialRuns) {
      const oldest = this.refused.keys().next().value;
      if (oldest !== undefined) this.refused.delete(oldest);
    }
    this.refused.set(id, at);
    return { kind: 'rejected', id, reason };
  }

  private drop(id: string): void {
    const partial = this.partials.get(id);
    if (!partial) return;
    this.heldBytes -= partial.bytes;
    this.partials.delete(id);
  }
}
