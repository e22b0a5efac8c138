/**
 * Shares one read among concurrent callers without ever handing a caller a
 * read that started before it asked: a caller arriving while a read is in
 * flight waits for the next one, which starts as soon as that read ends and
 * serves everyone who queued meanwhile. So N concurrent callers cost at most
 * two reads, and every answer is as fresh as a read of the caller's own.
 * (The connection guard needs that: a socket table read before a connection
 * was accepted may not show its peer yet, and the guard fails closed.)
 */
export class FreshReads<T> {
  private current: Promise<T> | null = null;
  private queued: Promise<T> | null = null;

  constructor(private readonly load: () => Promise<T>) {}

  get(): Promise<T> {
    if (!this.current) return this.start();
    this.queued ??= this.current
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.start();
      });
    return this.queued;
  }

  private start(): Promise<T> {
    const read = this.load().finally(() => {
      if (this.current === read) this.current = null;
    });
    this.current = read;
    return read;
  }
}
