import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CREATE_STEPS, REMOVE_STEPS, type FaultStep } from '@cocos-manager/core';
import { pidsWithArg, processState, REPO, startManager, type CreatedVm, type RunningManager, type WireVm } from './harness.js';

// kill -9 of the real manager at many points inside CreateVm and RemoveVm — every create and removal step
// (MANAGER_TEST_CRASH_AFTER), and random delays after the request was sent (anywhere, a state write included) —
// with the paused stand-in QEMU (real processes, QMP and ports; no guest to boot). After each restart the
// manager's view and the host must agree. Several runs side by side, each its own directories and ports.

const STAND_IN = path.join(REPO, 'tools/stand-in/qemu-paused');
// Three runs side by side: every step three times and 18 random delays per CI run (CRASH_POINTS_RUNS=6 for a longer hunt).
const RUNS = Number(process.env['CRASH_POINTS_RUNS'] ?? 3);
const DELAY_POINTS = 6; // besides one point per create and removal step
const BASE_ENV = {
  MANAGER_QEMU_BIN_PATH: STAND_IN,
  MANAGER_VM_POWERDOWN_TIMEOUT: '0s',
  MANAGER_VM_STOP_TIMEOUT: '2s',
  // The periodic sweep must not be what cleans up: only what a start does counts.
  MANAGER_RECONCILE_INTERVAL: '1h',
  MANAGER_TEST_HOOKS: '1',
  MANAGER_LOG_LEVEL: 'info',
};

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed (CRASH_POINTS_SEED). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Point {
  readonly op: 'create' | 'remove';
  /** A step the manager kills itself after, or a delay after which the test kills it. */
  readonly after: FaultStep | number;
}

/** One point per create and removal step, and delay points (their delays drawn when they run), shuffled. */
function points(random: () => number): Point[] {
  const list: Point[] = [
    ...CREATE_STEPS.map((after) => ({ op: 'create' as const, after })),
    ...REMOVE_STEPS.map((after) => ({ op: 'remove' as const, after })),
    ...Array.from({ length: DELAY_POINTS }, (_, i) => ({ op: i % 2 === 0 ? ('create' as const) : ('remove' as const), after: -1 })),
  ];
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What one run knows as a client: the VMs it was told were created and not removed, and those it was told were removed. */
class RunState {
  readonly told = new Set<string>();
  readonly removed = new Set<string>();
  /** Removals sent but not answered: the VM may be there or not. */
  readonly unsure = new Set<string>();
  readonly history: string[] = [];
  createMs = 600;
  removeMs = 300;
}

/** After a restart: the manager's list, its QEMUs and its directories agree, and with what the client was told. */
async function checkAgreement(m: RunningManager, run: RunState): Promise<WireVm[]> {
  const context = run.history.join('\n');
  const vms = (await m.call<{ vms: WireVm[] }>('ListVms', {})).vms;
  const ids = vms.map((vm) => vm.id);
  const running = vms.filter((vm) => vm.state === 'running');
  // Every QEMU of ours belongs to a listed running VM, and every listed running VM has its QEMU.
  expect(pidsWithArg(m.runDir).sort(), context).toEqual(running.map((vm) => vm.pid).sort());
  for (const vm of running) expect(processState(vm.pid), context).not.toBeNull();
  expect(
    vms.map((vm) => vm.state).filter((s) => s !== 'running' && s !== 'failed'),
    context,
  ).toEqual([]);
  for (const id of run.unsure) {
    if (!running.some((vm) => vm.id === id)) run.told.delete(id);
    run.unsure.delete(id);
  }
  // Every create the client was told of is listed (and runs); no removal it was told of is.
  for (const id of run.told)
    expect(
      running.map((vm) => vm.id),
      context,
    ).toContain(id);
  for (const id of run.removed) expect(ids, context).not.toContain(id);
  // No temporary or torn state file; a record for each listed VM and nothing else.
  const state = readdirSync(m.stateDir).filter((n) => n !== 'manager.lock');
  expect(
    state.filter((n) => !n.endsWith('.json')),
    context,
  ).toEqual([]);
  expect(state.map((n) => n.slice(0, -5)).sort(), context).toEqual([...ids].sort());
  // No per-VM directory no running VM owns (a failed VM's are gone with its teardown).
  const dirs = existsSync(m.runDir) ? readdirSync(m.runDir) : [];
  expect(dirs.sort(), context).toEqual(running.map((vm) => vm.id).sort());
  return vms;
}

/** Runs one crash point: a manager started (and checked), the operation sent, the manager killed inside it. */
async function crashAt(point: Point, run: RunState, random: () => number, range: string, base: string | undefined): Promise<string> {
  const step = typeof point.after === 'string' ? point.after : null;
  const startedAt = Date.now();
  const m = await startManager(range, { ...BASE_ENV, ...(step ? { MANAGER_TEST_CRASH_AFTER: step } : {}) }, base);
  const vms = await checkAgreement(m, run);
  let target: string | null = null;
  if (point.op === 'remove') {
    const running = vms.filter((vm) => vm.state === 'running').map((vm) => vm.id);
    const candidates = step === 'remove-stopping' ? running : running.length > 0 ? running : vms.map((vm) => vm.id);
    target = candidates[Math.floor(random() * candidates.length)] ?? null;
    if (!target) {
      const began = Date.now();
      target = (await m.call<CreatedVm>('CreateVm', {})).cvm_id;
      run.createMs = Date.now() - began;
      run.told.add(target);
    }
  }
  const delayMs = step ? null : Math.floor(random() * 1.1 * (point.op === 'create' ? run.createMs : run.removeMs));
  const began = Date.now();
  const call = point.op === 'create' ? m.call<CreatedVm>('CreateVm', {}) : m.call('RemoveVm', { cvm_id: target });
  const outcome = call.then(
    (res) => ({ ok: true as const, res }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  if (delayMs !== null) {
    await Promise.race([outcome, sleep(delayMs)]);
    process.kill(m.pid, 'SIGKILL');
  }
  const result = await outcome;
  const tookMs = Date.now() - began;
  await m.kill9(); // (already dead: closes the client, reaps)
  if (point.op === 'create' && result.ok) {
    run.told.add((result.res as CreatedVm).cvm_id);
    run.createMs = tookMs;
  }
  if (point.op === 'remove' && target) {
    if (result.ok) {
      run.told.delete(target);
      run.removed.add(target);
      run.removeMs = tookMs;
    } else if (run.told.has(target)) run.unsure.add(target);
  }
  run.history.push(
    `${point.op} ${target ?? ''} killed ${step ? `after ${step}` : `${delayMs} ms after sending`}: ${result.ok ? 'answered' : 'not answered'} (start ${began - startedAt} ms, call ${tookMs} ms)`,
  );
  return m.base;
}

async function crashRun(seed: number, range: string): Promise<RunState> {
  const random = prng(seed);
  const run = new RunState();
  run.history.push(`seed ${seed}`);
  let base: string | undefined;
  for (const point of points(random)) base = await crashAt(point, run, random, range, base);
  // The last restart: checked, then everything removed and nothing left.
  const m = await startManager(range, BASE_ENV, base);
  try {
    const vms = await checkAgreement(m, run);
    for (const vm of vms) await m.call('RemoveVm', { cvm_id: vm.id });
    expect(pidsWithArg(m.runDir)).toEqual([]);
    expect(readdirSync(m.runDir)).toEqual([]);
  } finally {
    await m.dispose();
  }
  return run;
}

describe('kill -9 at random points inside CreateVm and RemoveVm (real binary, paused stand-in QEMU)', () => {
  it(`${RUNS} runs of ${CREATE_STEPS.length + REMOVE_STEPS.length + DELAY_POINTS} crash points: after each restart QEMUs, listing, records and directories agree`, async () => {
    const seed = Number(process.env['CRASH_POINTS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
    const began = Date.now();
    const runs = await Promise.all(Array.from({ length: RUNS }, (_, i) => crashRun(seed + i, `${6820 + 10 * i}-${6829 + 10 * i}`)));
    console.log(`crash points: seed ${seed}, ${runs.length} runs in ${Date.now() - began} ms\n${runs.map((r) => r.history.join('\n')).join('\n\n')}`);
    for (const run of runs) expect(run.history.length).toBe(1 + CREATE_STEPS.length + REMOVE_STEPS.length + DELAY_POINTS);
  });
});
