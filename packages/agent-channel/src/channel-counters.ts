import type { RejectReason } from './frame-rejected.js';

/** What the agent channel saw, for one manager: the later metrics and status read it. */
export interface ChannelCounts {
  /** Connections the channel took (for a VM it knows). */
  connections: number;
  /** Connections it closed on a guest: an oversized frame, a flood, too many at once. */
  connectionsCut: number;
  /** Frames decoded, checked and acknowledged. */
  frames: number;
  /** Frames or connections refused, by why. */
  rejected: Record<RejectReason, number>;
  /** Payload bytes of accepted frames. */
  bytes: number;
}

/** The counters of one manager's agent channel (every connection adds to them). */
export class ChannelCounters {
  private readonly counts: ChannelCounts = { connections: 0, connectionsCut: 0, frames: 0, rejected: { oversized: 0, malformed: 0, flood: 0 }, bytes: 0 };

  connection(): void {
    this.counts.connections++;
  }

  cut(): void {
    this.counts.connectionsCut++;
  }

  frame(bytes: number): void {
    this.counts.frames++;
    this.counts.bytes += bytes;
  }

  rejected(reason: RejectReason): void {
    this.counts.rejected[reason]++;
  }

  /** A copy, as they are now. */
  snapshot(): ChannelCounts {
    return { ...this.counts, rejected: { ...this.counts.rejected } };
  }
}
