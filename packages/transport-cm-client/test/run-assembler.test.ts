import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RunAssembler, type AssemblerLimits } from '../src/index.js';

const LIMITS: AssemblerLimits = { maxRunBytes: 100, maxPartialRuns: 2, maxPartialBytes: 150, partialIdleMs: 30_000 };

function assembler(limits: Partial<AssemblerLimits> = {}) {
  let now = 1_000_000;
  const a = new RunAssembler({ ...LIMITS, ...limits }, () => now);
  return { a, advance: (ms: number) => (now += ms) };
}
const chunk = (id: string, bytes: number | Buffer, last = false) => ({ id, data: typeof bytes === 'number' ? Buffer.alloc(bytes, 7) : bytes, is_last: last });

describe('run request reassembly', () => {
  it('joins the chunks of one id in order, closed by an empty last chunk', () => {
    const { a } = assembler();
    expect(a.add(chunk('r', Buffer.from('hello ')))).toEqual({ kind: 'partial' });
    expect(a.add(chunk('r', Buffer.from('world')))).toEqual({ kind: 'partial' });
    expect(a.partialBytes).toBe(11);
    const done = a.add(chunk('r', 0, true));
    expect(done).toMatchObject({ kind: 'complete', id: 'r' });
    expect(done.kind === 'complete' && done.bytes.toString()).toBe('hello world');
    expect([a.partialRuns, a.partialBytes]).toEqual([0, 0]);
  });

  it('keeps runs of different ids apart, interleaved', () => {
    const { a } = assembler();
    a.add(chunk('x', Buffer.from('x1')));
    a.add(chunk('y', Buffer.from('y1')));
    a.add(chunk('x', Buffer.from('x2')));
    const y = a.add(chunk('y', Buffer.from('y2'), true));
    const x = a.add(chunk('x', 0, true));
    expect(y.kind === 'complete' && y.bytes.toString()).toBe('y1y2');
    expect(x.kind === 'complete' && x.bytes.toString()).toBe('x1x2');
  });

  it('a single last chunk with data is a whole run; an empty one is refused', () => {
    const { a } = assembler();
    expect(a.add(chunk('one', 10, true))).toMatchObject({ kind: 'complete', id: 'one' });
    expect(a.add(chunk('none', 0, true))).toMatchObject({ kind: 'rejected', id: 'none', reason: expect.stringMatching(/empty/) });
  });

  it('a run over maxRunBytes is refused once; its later chunks are dropped quietly until its last', () => {
    const { a } = assembler();
    a.add(chunk('big', 60));
    expect(a.add(chunk('big', 60))).toMatchObject({ kind: 'rejected', id: 'big', reason: expect.stringMatching(/larger than 100 bytes/) });
    expect(a.partialBytes).toBe(0);
    expect(a.add(chunk('big', 10))).toMatchObject({ kind: 'ignored' });
    expect(a.add(chunk('big', 0, true))).toMatchObject({ kind: 'ignored' });
    // The id is free again: a new run of it is taken.
    expect(a.add(chunk('big', 10, true))).toMatchObject({ kind: 'complete' });
    expect(a.add(chunk('huge', 101, true))).toMatchObject({ kind: 'rejected', id: 'huge' });
  });

  it('at most maxPartialRuns arrive at once; at most maxPartialBytes held together', () => {
    const { a } = assembler();
    a.add(chunk('a', 80));
    a.add(chunk('b', 60));
    expect(a.add(chunk('c', 1))).toMatchObject({ kind: 'rejected', id: 'c', reason: expect.stringMatching(/2 run requests are arriving/) });
    expect(a.add(chunk('b', 20))).toMatchObject({ kind: 'rejected', id: 'b', reason: expect.stringMatching(/more than 150 bytes/) });
    expect([a.partialRuns, a.partialBytes]).toEqual([1, 80]);
    expect(a.add(chunk('a', 0, true))).toMatchObject({ kind: 'complete', id: 'a' });
  });

  it('drops a run idle for partialIdleMs (injected clock), not one that keeps sending', () => {
    const { a, advance } = assembler();
    a.add(chunk('slow', 5));
    a.add(chunk('busy', 5));
    advance(20_000);
    a.add(chunk('busy', 5));
    expect(a.sweep()).toEqual([]);
    advance(10_000);
    expect(a.sweep()).toEqual(['slow']);
    expect([a.partialRuns, a.partialBytes]).toEqual([1, 10]);
    advance(30_000);
    expect(a.sweep()).toEqual(['busy']);
    // A late chunk of a dropped run starts over (and its last chunk completes only what came after).
    expect(a.add(chunk('slow', 3, true))).toMatchObject({ kind: 'complete', bytes: Buffer.alloc(3, 7) });
  });

  it('ignores chunks whose id is no id', () => {
    const { a } = assembler();
    expect(a.add(chunk('', 1))).toMatchObject({ kind: 'ignored' });
    expect(a.add(chunk('x'.repeat(257), 1))).toMatchObject({ kind: 'ignored' });
    expect(a.add(chunk('a\nb', 1))).toMatchObject({ kind: 'ignored' });
    expect(a.partialRuns).toBe(0);
  });

  it('clear forgets every partial run and says which', () => {
    const { a } = assembler();
    a.add(chunk('p', 1));
    a.add(chunk('q', 1));
    expect(a.clear().sort()).toEqual(['p', 'q']);
    expect([a.partialRuns, a.partialBytes]).toEqual([0, 0]);
  });

  it('property: whatever the chunks, the held bytes never pass the bounds and reassembled runs are their chunks in order', () => {
    const op = fc.record({ id: fc.constantFrom('a', 'b', 'c', 'd'), size: fc.integer({ min: 0, max: 70 }), last: fc.boolean() });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { a } = assembler();
        const sent = new Map<string, number[]>();
        let n = 0;
        for (const { id, size, last } of ops) {
          const data = Buffer.alloc(size, ++n % 251);
          const outcome = a.add({ id, data, is_last: last });
          expect(a.partialBytes).toBeLessThanOrEqual(LIMITS.maxPartialBytes);
          expect(a.partialRuns).toBeLessThanOrEqual(LIMITS.maxPartialRuns);
          if (outcome.kind === 'partial') sent.set(id, [...(sent.get(id) ?? []), ...data]);
          if (outcome.kind === 'complete') {
            expect([...outcome.bytes]).toEqual([...(sent.get(id) ?? []), ...data]);
            expect(outcome.bytes.byteLength).toBeLessThanOrEqual(LIMITS.maxRunBytes);
          }
          if (outcome.kind !== 'partial') sent.delete(id);
        }
      }),
    );
  });
});
