import { describe, expect, it } from 'vitest';
import { settleAll } from '../src/vm/settle-all.js';

const after = (ms: number, what: () => void) => new Promise<void>((resolve) => setTimeout(() => (what(), resolve()), ms));

describe('settleAll: side-by-side steps of a create', () => {
  it('waits for the slow step before it throws the fast step’s failure (a rollback never races a write still running)', async () => {
    let slowDone = false;
    const fast = Promise.reject(new Error('the disk is full'));
    const slow = after(50, () => (slowDone = true));
    await expect(settleAll([fast, slow])).rejects.toThrow('the disk is full');
    expect(slowDone).toBe(true);
  });

  it('throws the first failure in the order given, not the first to fail in time', async () => {
    const late = after(30, () => undefined).then(() => Promise.reject(new Error('first given')));
    const early = Promise.reject(new Error('first in time'));
    await expect(settleAll([late, early])).rejects.toThrow('first given');
  });

  it('resolves once every step has, when none fails', async () => {
    const done: number[] = [];
    await settleAll([after(20, () => done.push(1)), after(5, () => done.push(2))]);
    expect(done.sort()).toEqual([1, 2]);
  });
});
