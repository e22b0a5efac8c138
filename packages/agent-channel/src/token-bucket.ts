/**
 * A token bucket: `burst` tokens at most, refilled at `perSecond`. `take(n)`
 * says whether `n` tokens were there (and spends them). The clock is
 * injectable so tests need not wait.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly burst: number,
    readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(burst > 0) || !(perSecond > 0)) throw new RangeError(`a token bucket needs a positive burst and rate (got ${burst}, ${perSecond}/s)`);
    this.tokens = burst;
    this.last = now();
  }

  take(n = 1): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}
