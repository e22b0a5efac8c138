import { describe, expect, it } from 'vitest';
import { FreshReads } from '../src/security/fresh-reads.js';

/** A load whose reads are released by hand; each read returns its sequence number. */
function gatedLoad() {
  const pending: Array<() => void> = [];
  let started = 0;
  const load = () =>
    new Promise<number>((resolve) => {
      const n = ++started;
      pending.push(() => resolve(n));
    });
  return { load, release: () => pending.shift()?.(), started: () => started };
}

describe('FreshReads', () => {
  it('never answers a caller with a read that started before it asked, and shares reads among waiting callers', async () => {
    const g = gatedLoad();
    const reads = new FreshReads(g.load);
    const first = reads.get(); // starts read 1
    const second = reads.get(); // read 1 is in flight: waits for read 2
    const third = reads.get(); // joins read 2
    expect(g.started()).toBe(1);
    g.release();
    expect(await first).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(g.started()).toBe(2);
    const fourth = reads.get(); // read 2 in flight: waits for read 3
    g.release();
    expect([await second, await third]).toEqual([2, 2]);
    await new Promise((r) => setImmediate(r));
    g.release();
    expect(await fourth).toBe(3);
    expect(g.started()).toBe(3);
  });

  it('a failed read fails its callers only; the queued callers get a new read', async () => {
    let n = 0;
    let fail: (e: Error) => void = () => undefined;
    const reads = new FreshReads(() => (++n === 1 ? new Promise<number>((_, reject) => (fail = reject)) : Promise.resolve(n)));
    const first = reads.get();
    const second = reads.get();
    fail(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    expect(await second).toBe(2);
  });
});
