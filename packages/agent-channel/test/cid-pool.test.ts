import { describe, expect, it } from 'vitest';
import { CidPool } from '../src/index.js';

describe('CidPool', () => {
  it('hands out the lowest free CID from 3 and reuses a CID only once it is released', () => {
    const pool = new CidPool();
    expect([pool.take('a'), pool.take('b'), pool.take('c')]).toEqual([3, 4, 5]);
    pool.release(4, 'b');
    expect(pool.next()).toBe(4);
    expect(pool.take('d')).toBe(4);
    expect(pool.take('e')).toBe(6);
    expect(pool.held()).toEqual([3, 4, 5, 6]);
    expect(pool.holder(4)).toBe('d');
  });

  it('release is harmless for a CID the VM does not hold', () => {
    const pool = new CidPool();
    pool.take('a');
    pool.release(3, 'b');
    pool.release(9, 'a');
    expect(pool.holder(3)).toBe('a');
  });

  it('claim marks a re-adopted CID taken and names a VM that held it already', () => {
    const pool = new CidPool();
    expect(pool.claim(4, 'x')).toBeUndefined();
    expect(pool.claim(4, 'x')).toBeUndefined();
    expect(pool.take('a')).toBe(3);
    expect(pool.take('b')).toBe(5);
    expect(pool.claim(5, 'y')).toBe('b');
  });

  it('starts where it is told, never below 3', () => {
    expect(new CidPool(100).take('a')).toBe(100);
    expect(() => new CidPool(2)).toThrow('the first guest CID 2 is not within 3-4294967294');
  });

  it('is exhausted only past the last CID', () => {
    const pool = new CidPool(0xffff_fffd);
    expect([pool.take('a'), pool.take('b')]).toEqual([0xffff_fffd, 0xffff_fffe]);
    let thrown: unknown;
    try {
      pool.take('c');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ kind: 'DEVICE_POOL_EXHAUSTED', message: 'every guest CID from 4294967293 is held by a VM' });
  });
});
