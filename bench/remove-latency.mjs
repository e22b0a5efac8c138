// RemoveVm latency (issue 14): a guest still booting cannot hear an ACPI
// power-down, so RemoveVm must not wait out MANAGER_VM_POWERDOWN_TIMEOUT for
// it; a booted guest still gets its graceful power-down, and RemoveVm should
// cost no more than the guest's own power-off. Baselines, same run, same
// argv: `kill -TERM` of a manager-started QEMU at the same age (booting), and
// a directly spawned QEMU of the same argv powered down over its own QMP
// socket (booted). The manager runs with the default 10 s power-down timeout.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { QmpClient } from '@cocos-manager/core/internal';
import { benchEnv, freePort, guestAnswers, MAIN, median, ms, sleep, startManager, tempBase } from './lib.mjs';

const BOOTING_ROUNDS = 7;
const BOOTED_ROUNDS = 3;
const RANGE = '6680-6689';

/** The process state letter, or null once the pid is gone (a zombie still counts as there). */
function processState(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** Resolves once `pid` is gone or a zombie (its parent, the manager, reaps it). */
async function exitedAt(pid) {
  for (;;) {
    const state = processState(pid);
    if (state === null || state === 'Z') return ms();
    await sleep(1);
  }
}

/** A manager-started VM: its id, pid and forwarded port. */
async function createVm(m) {
  const created = await m.call('CreateVm', {});
  const vm = await m.call('GetVm', { id: created.cvm_id });
  return { id: created.cvm_id, pid: Number(vm.pid), port: Number(created.forwarded_port) };
}

/** RemoveVm, timed; whether QEMU was already gone when it answered. */
async function timedRemove(m, vm) {
  const t0 = ms();
  await m.call('RemoveVm', { cvm_id: vm.id });
  return { removeMs: ms() - t0, gone: processState(vm.pid) === null };
}

/**
 * The same argv as the manager runs, spawned directly in a directory of its
 * own (outside the manager's run dir, which its reconciler sweeps); holds
 * QMP so the benchmark can press the power button itself.
 */
async function rawQemu(env, rawDir) {
  const id = crypto.randomUUID();
  const port = await freePort();
  const argsEnv = { ...env, MANAGER_RUN_DIR: rawDir };
  const argv = JSON.parse((await execa('node', [MAIN, 'qemu-args'], { env: argsEnv, extendEnv: false })).stdout).map((a) =>
    a.replaceAll('00000000-0000-0000-0000-000000000000', id).replace(/hostfwd=tcp::\d+-/, `hostfwd=tcp::${port}-`),
  );
  const dir = path.join(rawDir, id);
  mkdirSync(path.join(dir, 'env'), { recursive: true });
  mkdirSync(path.join(dir, 'certs'));
  writeFileSync(path.join(dir, 'env', 'environment'), `AGENT_CVM_ID=${id}\n`);
  for (const f of ['cert.pem', 'key.pem', 'ca.pem']) writeFileSync(path.join(dir, 'certs', f), '');
  copyFileSync('/usr/share/OVMF/OVMF_VARS.fd', path.join(dir, 'OVMF_VARS.fd'));
  const child = execa(argv[0], argv.slice(1), { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
  let qmp;
  while (!qmp) {
    try {
      qmp = await QmpClient.connect(path.join(dir, 'qmp.sock'), 1000);
    } catch {
      await sleep(5);
    }
  }
  return { port, t0: ms(), child, qmp, dir };
}

/** The detail of the VM's `stopped` event (its exit reason), or null if the stream ended without one. */
function watchStopped(m, id) {
  const call = m.client.WatchEvents({ vm_id: id, lifecycle_only: true });
  const detail = new Promise((resolve) => {
    call.on('data', (e) => {
      if (e.state === 'stopped') {
        resolve(e.detail);
        call.cancel();
      }
    });
    call.on('error', () => resolve(null));
    call.on('end', () => resolve(null));
  });
  return detail;
}

/** Booting guests: RemoveVm right after CreateVm, against kill -TERM of a QEMU just as young. */
async function booting(m) {
  const removes = [];
  const kills = [];
  let allGone = true;
  for (let i = 0; i < BOOTING_ROUNDS; i++) {
    const removed = await timedRemove(m, await createVm(m));
    removes.push(removed.removeMs);
    allGone &&= removed.gone;
    const killed = await createVm(m);
    const t0 = ms();
    process.kill(killed.pid, 'SIGTERM');
    kills.push((await exitedAt(killed.pid)) - t0);
    await m.call('RemoveVm', { cvm_id: killed.id }); // failed by now: nothing left to stop
  }
  return { removeMs: median(removes), maxRemoveMs: Math.max(...removes), killTermMs: median(kills), allGone, removes, kills };
}

/** Booted guests: RemoveVm against the guest's own power-off (system_powerdown → QEMU exit) of the same argv. */
async function booted(m, env, rawDir) {
  const removes = [];
  const powerOffs = [];
  let allGone = true;
  let allGraceful = true;
  const exits = [];
  for (let i = 0; i < BOOTED_ROUNDS; i++) {
    // Both boot side by side; each is timed only once both are up and idle.
    const [vm, raw] = await Promise.all([createVm(m), rawQemu(env, rawDir)]);
    await Promise.all([guestAnswers(vm.port, ms()), guestAnswers(raw.port, raw.t0)]);
    await sleep(1000);
    const powerOff = async () => {
      const t0 = ms();
      await raw.qmp.execute('system_powerdown');
      const timer = setTimeout(() => raw.child.kill('SIGKILL'), 30_000); // a guest that never powers off must not hang the bench
      const { signal } = await raw.child;
      clearTimeout(timer);
      if (signal) throw new Error(`the directly spawned dev guest did not power off within 30 s (${signal})`);
      powerOffs.push(ms() - t0);
      raw.qmp.close();
      rmSync(raw.dir, { recursive: true, force: true });
    };
    const remove = async () => {
      const stopped = watchStopped(m, vm.id);
      await sleep(200); // subscribed before the removal starts
      const removed = await timedRemove(m, vm);
      removes.push(removed.removeMs);
      allGone &&= removed.gone;
      // Graceful: the guest powered itself off (QEMU exited 0), not SIGTERM after the timeout.
      const detail = await stopped;
      exits.push((detail ?? 'no stopped event').split(';')[0]);
      allGraceful &&= /exited with code 0/.test(detail ?? '');
    };
    // Alternate which goes first: the second runs with one guest fewer on the machine.
    for (const step of i % 2 === 0 ? [powerOff, remove] : [remove, powerOff]) {
      await step();
      await sleep(500);
    }
  }
  return { removeMs: median(removes), powerOffMs: median(powerOffs), allGone, allGraceful, removes, powerOffs, exits };
}

export async function runRemoveLatency() {
  const base = tempBase('remove');
  const rawDir = path.join(base, 'raw');
  mkdirSync(rawDir);
  // The default power-down timeout (benchEnv turns it off for the other benchmarks).
  const env = benchEnv(base, RANGE, { MANAGER_VM_POWERDOWN_TIMEOUT: '10s' });
  const m = await startManager(env);
  try {
    const early = await booting(m);
    const late = await booted(m, env, rawDir);
    const r = (x) => +x.toFixed(1);
    console.log(JSON.stringify({ booting: early, booted: late }));
    return [
      {
        name: 'RemoveVm of a booting dev guest (right after CreateVm), QEMU gone at the answer',
        value: r(early.removeMs),
        unit: 'ms',
        baseline: r(early.killTermMs),
        ratio: +(early.removeMs / early.killTermMs).toFixed(3),
        goal: '≤ 1000 ms (baseline: kill -TERM of a QEMU as young)',
        met: early.removeMs <= 1000 && early.allGone,
      },
      {
        name: 'RemoveVm of a booted dev guest (graceful power-down: QEMU exited 0), QEMU gone at the answer',
        value: r(late.removeMs),
        unit: 'ms',
        baseline: r(late.powerOffMs),
        ratio: +(late.removeMs / late.powerOffMs).toFixed(3),
        goal: "≤ the guest's own power-off (system_powerdown → QEMU exit, same argv) + 100 ms",
        met: late.removeMs <= late.powerOffMs + 100 && late.allGone && late.allGraceful,
      },
    ];
  } finally {
    // A failed run must not leave VMs behind (the manager leaves them running when it stops).
    const { vms = [] } = await m.call('ListVms', {}).catch(() => ({}));
    for (const vm of vms) await m.call('RemoveVm', { cvm_id: vm.id }).catch(() => undefined);
    await m.stop();
    rmSync(base, { recursive: true, force: true });
  }
}
