/**
 * An idle manager sleeps: with no VM and no caller, the real binary's main
 * thread wakes only for its few slow timers. The kernel counts each time a
 * thread gives up the CPU to wait (voluntary context switches), so this
 * counts wake-ups, not time: it holds on a loaded machine as on an idle one.
 * Before the event-loop delay histogram sampled every 100 ms, prom-client's
 * 10 ms default woke it about 100 times a second.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startManager, type RunningManager } from './harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How often the thread `tid` of `pid` has waited (slept) so far. */
function voluntarySwitches(pid: number, tid = pid): number {
  const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
  const count = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1];
  if (count === undefined) throw new Error(`no voluntary_ctxt_switches in /proc/${pid}/task/${tid}/status`);
  return Number(count);
}

describe('an idle manager', () => {
  let m: RunningManager | null = null;
  afterAll(async () => {
    await m?.dispose();
  });

  it('wakes its main thread fewer than 30 times a second', async () => {
    m = await startManager('7232-7233');
    // Past start-up: the young generation's growth is restored 1 s after serving, the health checks have settled.
    await sleep(3000);
    const before = voluntarySwitches(m.pid);
    const windowMs = 5000;
    await sleep(windowMs);
    const perSecond = (voluntarySwitches(m.pid) - before) / (windowMs / 1000);
    expect(perSecond).toBeGreaterThan(0); // it is alive and counted: the 100 ms histogram alone is ~10
    expect(perSecond).toBeLessThan(30);
    // And it still answers.
    expect((await m.call<{ vms: unknown[] }>('ListVms', {})).vms).toEqual([]);
  });
});
