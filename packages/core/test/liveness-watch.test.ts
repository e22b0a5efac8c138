/**
 * The liveness watch: one timer for every QEMU supervised without being our
 * child. Real processes (a `sleep` the test starts and kills) for "exists";
 * a recorded /proc tree for what only a start-time read shows (a zombie, a
 * pid now someone else's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LivenessWatch, pidExists, readStartTime } from '../src/internal.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function liveProcess(): Promise<{ child: ChildProcess; identity: { pid: number; startTime: string } }> {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  const startTime = await readStartTime(child.pid!);
  if (startTime === null) throw new Error('the sleep stand-in is not running');
  return { child, identity: { pid: child.pid!, startTime } };
}

/** A /proc with one process: `pid` in `state`, started at `startTime`. */
function recordedProc(pid: number, state: string, startTime: string): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'liveness-proc-'));
  dirs.push(root);
  mkdirSync(path.join(root, String(pid)));
  // Fields 3–21 (state, then 18 more), field 22 the start time: as /proc/<pid>/stat lays them out.
  writeFileSync(path.join(root, String(pid), 'stat'), `${pid} (qemu-system-x86) ${state} ${Array(18).fill('0').join(' ')} ${startTime} 0 0\n`);
  return root;
}

/** Resolves with true once `gone` was called, false after `withinMs` without. */
function goneWithin(watch: LivenessWatch, identity: { pid: number; startTime: string }, withinMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), withinMs);
    watch.watch(identity, () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('LivenessWatch', () => {
  it('watches many processes on one timer, and has none while it watches nothing', async () => {
    const { identity } = await liveProcess();
    const started = vi.spyOn(globalThis, 'setInterval');
    const cleared = vi.spyOn(globalThis, 'clearInterval');
    try {
      const watch = new LivenessWatch({ everyMs: 10, fullEvery: 2 });
      let gone = 0;
      const stops = Array.from({ length: 200 }, () => watch.watch(identity, () => gone++));
      expect(started).toHaveBeenCalledTimes(1);
      await sleep(200); // twenty ticks, ten of them full reads: the process is alive and its own
      expect(gone).toBe(0);
      expect(watch.size).toBe(200);
      for (const stop of stops.slice(1)) stop();
      expect(cleared).not.toHaveBeenCalled();
      stops[0]!();
      expect(watch.size).toBe(0);
      expect(cleared).toHaveBeenCalledTimes(1);
      // Watching again starts a timer again.
      watch.watch(identity, () => gone++)();
      expect(started).toHaveBeenCalledTimes(2);
    } finally {
      started.mockRestore();
      cleared.mockRestore();
    }
  });

  it('notices an exit (kill(pid, 0) fails once it is reaped) and calls gone once', async () => {
    const { child, identity } = await liveProcess();
    const watch = new LivenessWatch({ everyMs: 10, fullEvery: 1_000_000 }); // no start-time reads: the kernel's answer alone
    let calls = 0;
    const gone = new Promise<void>((resolve) =>
      watch.watch(identity, () => {
        calls++;
        resolve();
      }),
    );
    child.kill('SIGKILL');
    await gone;
    await sleep(50);
    expect(calls).toBe(1);
    expect(pidExists(identity.pid)).toBe(false);
    expect(watch.size).toBe(0);
  });

  it('notices a zombie and a reused pid on its full ticks only', async () => {
    const { identity } = await liveProcess(); // alive: kill(pid, 0) succeeds throughout
    const zombie = recordedProc(identity.pid, 'Z', identity.startTime);
    const reused = recordedProc(identity.pid, 'S', `${identity.startTime}1`);
    const same = recordedProc(identity.pid, 'S', identity.startTime);
    expect(await goneWithin(new LivenessWatch({ everyMs: 10, fullEvery: 3, procRoot: zombie }), identity, 10_000)).toBe(true);
    expect(await goneWithin(new LivenessWatch({ everyMs: 10, fullEvery: 3, procRoot: reused }), identity, 10_000)).toBe(true);
    // Without full ticks neither is seen; the process as recorded is never gone.
    expect(await goneWithin(new LivenessWatch({ everyMs: 10, fullEvery: 1_000_000, procRoot: zombie }), identity, 200)).toBe(false);
    expect(await goneWithin(new LivenessWatch({ everyMs: 10, fullEvery: 2, procRoot: same }), identity, 200)).toBe(false);
  });

  it('stop ends every watch: no gone afterwards', async () => {
    const { child, identity } = await liveProcess();
    const watch = new LivenessWatch({ everyMs: 10 });
    let gone = false;
    watch.watch(identity, () => (gone = true));
    watch.stop();
    expect(watch.size).toBe(0);
    child.kill('SIGKILL');
    await sleep(100);
    expect(gone).toBe(false);
  });

  it('pidExists: a running process, a pid no process has', async () => {
    const { identity } = await liveProcess();
    expect(pidExists(identity.pid)).toBe(true);
    expect(pidExists(process.pid)).toBe(true);
    expect(pidExists(2 ** 22 + 1)).toBe(false); // above the kernel's largest pid_max
  });
});
