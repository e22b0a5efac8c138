import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { appendFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rssKiB, startManager, until, type CreatedVm, type RunningManager, type WireVm } from './harness.js';

/**
 * A guest decides what it writes to its serial console. The dev guest
 * (cocos.longline=<MiB>) writes a line without a newline, then ordinary
 * lines: the manager's memory stays bounded (the follower holds at most one
 * 16 KiB piece, every reader gets bounded pieces), the API keeps answering,
 * and the lines after it still reach a follower.
 *
 * QEMU's serial port writes its file a byte per write(2), a few hundred KiB/s
 * under TCG here: the guest writes GUEST_MIB through it for real, and while it
 * does the test appends the rest of the 64+ MiB to the same console log the
 * way QEMU does (O_APPEND, no newline) — the manager sees one console file
 * growing by one endless line either way.
 *
 * Two measures: what the manager still holds after the line went by (its live
 * heap after a full collection — a heap snapshot, SIGUSR2 through Node's own
 * --heapsnapshot-signal, collects first), which must not grow; and its peak
 * RSS while the 64 MiB go by, which must stay under 32 MiB (the young
 * generation is capped at 16 MiB, apps/manager/src/young-generation.ts). The
 * appends keep the follower's pace: thrown at it as fast as a disk takes
 * them, the follower falls behind and what waits in its reader's backlog is
 * promoted and collected late — a peak the line's length does not decide.
 * The follower that kept its partial line grew the manager by 3× what the
 * guest wrote.
 */

const GUEST_MIB = 2;
const HOST_MIB = 62;
const MIB = GUEST_MIB + HOST_MIB;
const PIECE_BOUND = 16 * 1024 + 64;

/** Follows GET /vms/<id>/console?follow=1, keeping only the longest line seen and the short lines. */
async function follow(port: number, id: string) {
  const seen = { bytes: 0, longest: 0, lines: [] as string[], ended: false };
  const res = await fetch(`http://127.0.0.1:${port}/vms/${id}/console?follow=1`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let rest = '';
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      seen.bytes += value.length;
      const parts = (rest + decoder.decode(value, { stream: true })).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        seen.longest = Math.max(seen.longest, line.length);
        if (line.length < 200) seen.lines.push(line);
      }
      seen.longest = Math.max(seen.longest, rest.length);
    }
    seen.ended = true;
  })();
  return { seen, stop: () => Promise.all([reader.cancel().catch(() => undefined), pump]) };
}

/** Waits until `done`, or until `progress` has not moved for a second (then there is nothing more to wait for). */
async function keepingPace(done: () => boolean, progress: () => number): Promise<void> {
  let last = progress();
  let since = Date.now();
  while (!done()) {
    await new Promise((r) => setTimeout(r, 20));
    if (progress() !== last) {
      last = progress();
      since = Date.now();
    } else if (Date.now() - since > 1000) return;
  }
}

/**
 * The manager's live heap: a heap snapshot (a full collection first) into
 * `dir`, and the sizes of the objects it lists — what survived that
 * collection, not what the manager allocated after it.
 */
async function liveHeapMiB(m: RunningManager, dir: string): Promise<number> {
  const snapshots = () => readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));
  const before = snapshots().length;
  process.kill(m.pid, 'SIGUSR2');
  await until(() => snapshots().length > before, 60_000, 'the heap snapshot');
  // The snapshot is written by the main thread: once the manager answers again, the file is whole.
  await until(async () => (await m.http('GET', '/health')).status === 200, 60_000, 'the manager after its snapshot');
  const file = path.join(dir, snapshots().at(-1)!);
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[] };
  rmSync(file);
  const fields = snapshot.snapshot.meta.node_fields;
  const selfSize = fields.indexOf('self_size');
  let bytes = 0;
  for (let i = selfSize; i < snapshot.nodes.length; i += fields.length) bytes += snapshot.nodes[i]!;
  return bytes / 2 ** 20;
}

describe(`a guest that writes ${MIB} MiB to its console without a newline (real QEMU)`, () => {
  let m: RunningManager | null = null;
  afterAll(async () => {
    await m?.dispose();
  });

  it('leaves the manager bounded and answering, and later lines still reach a follower', async () => {
    // The snapshots go to the manager's test directory, removed with it.
    const snapshotDir = await mkdtemp(path.join(os.tmpdir(), 'cm-e2e-'));
    m = await startManager(
      '6590-6594',
      {
        MANAGER_QEMU_KERNEL_CMDLINE: `console=ttyS0 cocos.longline=${GUEST_MIB}`,
        MANAGER_STOP_VMS_ON_EXIT: 'true',
        MANAGER_VM_POWERDOWN_TIMEOUT: '1s',
        NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshotDir}`,
      },
      snapshotDir,
    );
    const created = await m.call<CreatedVm>('CreateVm', {});
    const consoleLog = path.join(m.runDir, created.cvm_id, 'console.log');
    const log = () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '');
    await until(() => log().includes('dev-guest: longline start'), 120_000, 'the guest to start its long line');
    const follower = await follow(m.httpPort, created.cvm_id);
    const liveBefore = await liveHeapMiB(m, snapshotDir);
    const rssBefore = rssKiB(m.pid);
    let rssPeak = rssBefore;
    let calls = 0;
    const chunk = 'x'.repeat(2 ** 20);
    const answering = async () => {
      const listed = await m!.call<{ vms: WireVm[] }>('ListVms', {});
      expect(listed.vms.map((v) => v.id)).toEqual([created.cvm_id]);
      expect((await m!.http('GET', '/health')).status).toBe(200);
      calls++;
    };
    // The guest is inside its line (it writes for many seconds more): the rest of it arrives meanwhile.
    for (let i = 1; i <= HOST_MIB; i++) {
      const followed = follower.seen.bytes;
      await appendFile(consoleLog, chunk);
      // A pace the manager keeps (on any machine): the next MiB once the follower has read this one and rotated the
      // log (past MANAGER_CONSOLE_LOG_SIZE, 1 MiB). Faster, the copy-and-truncate rotation drops what lands between
      // its copy and its truncate. Should some bytes go that way anyway (the guest writes too), a follower that
      // stops advancing has read all there is.
      await keepingPace(
        () => follower.seen.bytes >= followed + 2 ** 20 && statSync(consoleLog).size < 2 ** 20,
        () => follower.seen.bytes,
      );
      rssPeak = Math.max(rssPeak, rssKiB(m.pid));
      if (i % 4 === 0) await answering();
    }
    // Meanwhile the API answers, and the manager's memory is sampled.
    while (!follower.seen.lines.some((l) => l.includes('dev-guest: longline done'))) {
      rssPeak = Math.max(rssPeak, rssKiB(m.pid));
      await answering();
      if (follower.seen.ended) throw new Error('the console follower ended before the long line did');
      await new Promise((r) => setTimeout(r, 250));
    }
    rssPeak = Math.max(rssPeak, rssKiB(m.pid));
    const grownMiB = (rssPeak - rssBefore) / 1024;
    const liveAfter = await liveHeapMiB(m, snapshotDir);
    await follower.stop();
    console.log(
      `console long line: ${(follower.seen.bytes / 2 ** 20).toFixed(1)} MiB followed, longest piece ${follower.seen.longest} chars, RSS peak +${grownMiB.toFixed(1)} MiB, live heap ${liveBefore.toFixed(1)} → ${liveAfter.toFixed(1)} MiB, ${calls} API rounds`,
    );
    // The whole line went by (in pieces), each piece bounded, and the manager stayed small.
    // Paced, (nearly) the whole line goes by: what a rotation may drop is what was written during its copy.
    expect(follower.seen.bytes).toBeGreaterThan(0.75 * MIB * 2 ** 20);
    expect(follower.seen.longest).toBeLessThanOrEqual(PIECE_BOUND);
    expect(liveAfter - liveBefore).toBeLessThan(4);
    expect(grownMiB).toBeLessThan(32);
    const metrics = (await m.http('GET', '/metrics')).text;
    expect(Number(/^manager_console_lines_cut_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(MIB * 60);
    await m.call('RemoveVm', { cvm_id: created.cvm_id });
  });
});
