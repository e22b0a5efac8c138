import { describe, expect, it } from 'vitest';
import { pageOf } from '../src/transport-kit/vm-pages.js';
import { VmTable, vmPosition } from '../src/vm/vm-table.js';
import type { VmInstance } from '../src/vm/vm-instance.js';

// VmTable's paging index reads only a VM's id and creation text.
const vm = (id: string, createdAtText: string) => ({ id, createdAtText }) as unknown as VmInstance;
const key = (v: VmInstance) => `${v.createdAtText} ${v.id}`;

/** A small deterministic generator, so a failure names its seed. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('VmTable: VMs in paging order as they come and go', () => {
  it('keeps oldest first, ties by id, through adds out of order, replacements and removals', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = random(seed);
      const table = new VmTable();
      const live = new Map<string, VmInstance>();
      for (let step = 0; step < 300; step++) {
        const id = `vm-${Math.floor(next() * 60)}`;
        if (next() < 0.3) {
          table.delete(id);
          live.delete(id);
        } else {
          // Few distinct instants, so ties (ordered by id) are common.
          const v = vm(id, `2026-12-04T10:00:0${Math.floor(next() * 4)}.000Z`);
          table.add(v);
          live.set(id, v);
        }
        const expected = [...live.values()].map(key).sort();
        expect(table.sorted().map(key), `seed ${seed} step ${step}`).toEqual(expected);
        expect(table.size).toBe(live.size);
      }
    }
  });

  it('pages cut from the index by bisection hold what a sort of every VM would, after any page token', () => {
    const table = new VmTable();
    const next = random(7);
    for (let i = 0; i < 200; i++) table.add(vm(`vm-${i.toString().padStart(3, '0')}`, `2026-12-04T10:00:${Math.floor(next() * 30) + 10}.000Z`));
    const all = [...table.sorted()];
    for (const size of [1, 7, 50, 200, 500]) {
      const walked: string[] = [];
      let token = '';
      let pages = 0;
      do {
        const page = pageOf(table.sorted(), size, token, vmPosition);
        expect(page.total).toBe(200);
        expect(page.items.length).toBeLessThanOrEqual(size);
        walked.push(...page.items.map(key));
        token = page.nextPageToken;
        pages++;
      } while (token !== '');
      expect(walked).toEqual(all.map(key));
      expect(pages).toBe(Math.ceil(200 / size));
    }
    // A token whose VM was removed still starts the next page at the first VM after its position.
    const first = pageOf(table.sorted(), 10, '', vmPosition);
    table.delete(first.items[9]!.id);
    const second = pageOf(table.sorted(), 10, first.nextPageToken, vmPosition);
    expect(second.items.map(key)).toEqual(all.slice(10, 20).map(key));
  });
});
