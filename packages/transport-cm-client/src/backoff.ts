/**
 * Waits between dials: `minMs`, doubled after each failed attempt, capped at
 * `maxMs`; each wait drawn from 50-100 % of that ("equal jitter"), so
 * managers cut off together do not redial Computation Management together,
 * and never shorter than half the step. `reset` after a healthy stream.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(minMs > 0) || maxMs < minMs) throw new RangeError(`backoff needs 0 < min (${minMs}) ≤ max (${maxMs})`);
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The cap: also the pause after Computation Management asked the client to go (terminateReq). */
  get max(): number {
    return this.maxMs;
  }

  /** The wait before the next attempt (and counts one more failed attempt). */
  next(): number {
    const step = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 52));
    this.attempt++;
    const jitter = Math.min(Math.max(this.random(), 0), 1);
    return Math.round(step / 2 + (step / 2) * jitter);
  }

  reset(): void {
    this.attempt = 0;
  }
}
