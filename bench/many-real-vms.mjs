// Hundreds of real VMs on one manager (issue 24): the paused-QEMU stand-in
// (tools/stand-in/qemu-paused, as bench/hundred-vms.mjs), as many as the
// machine's free memory holds, up to 250 — each idle paused QEMU holds ~38 MiB
// — through create, list, restart (kill -9, re-adoption) and remove, with the
// VM-origin guard's per-connection cost on their real /proc descriptors.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import path from 'node:path';
import { measure as guardCosts, server as guardServer } from './guard-figure.mjs';
import { killQemusUnder, spawnUntil } from './hundred-vms.mjs';
import { benchEnv, fig, managerCpuSeconds, median, ms, REPO, rssMiB, sleep, startManager, tempBase } from './lib.mjs';

const MOST = 250;
/** What one paused stand-in holds (RSS), with some headroom. */
const PER_VM_MIB = 40;
/** Left to the rest of the machine (other jobs, the bench itself). */
const RESERVE_MIB = 3072;
const STAND_IN = path.join(REPO, 'tools/stand-in/qemu-paused');

/** How many stand-ins fit in MemAvailable less the reserve (at most 250, at least 10). */
export function vmCount() {
  const available = Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))[1]) / 1024;
  return Math.max(10, Math.min(MOST, Math.floor((available - RESERVE_MIB) / PER_VM_MIB)));
}

const manyEnv = (base, n, range) =>
  benchEnv(base, range, { MANAGER_QEMU_BIN_PATH: STAND_IN, MANAGER_MAX_VMS: String(n + 10), MANAGER_QEMU_MEMORY_SIZE: '64M', MANAGER_LOG_LEVEL: 'info' });

async function timed(call, rounds) {
  for (let i = 0; i < 20; i++) await call();
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const t = ms();
    await call();
    times.push(ms() - t);
  }
  return median(times);
}

/**
 * How long this machine's init takes to reap an orphan: a re-adopted QEMU is
 * not our child, so once it exits it stays a zombie until init reaps it, and
 * RemoveVm answers once it is gone (adopted-process.ts). Median of 5 orphaned
 * `sleep`s, from SIGTERM until /proc no longer lists them.
 */
async function orphanReapMs() {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const out = await execa('sh', ['-c', 'sleep 100 </dev/null >/dev/null 2>&1 & echo $!']);
    const pid = Number(out.stdout.trim());
    await sleep(100);
    const t = ms();
    process.kill(pid, 'SIGTERM');
    while (existsSync(`/proc/${pid}`)) await sleep(2);
    times.push(ms() - t);
  }
  return median(times);
}

async function inWaves(items, width, task) {
  const out = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(task))));
  return out;
}

export async function runManyRealVms() {
  const n = vmCount();
  const label = `${n} real VMs (paused stand-in; count from free memory, at most ${MOST})`;
  const figures = [];
  const base = tempBase('many');
  const env = manyEnv(base, n, '23000-23299');
  const s = await guardServer();
  let m = await startManager(env);
  try {
    const first = (await m.call('CreateVm', {})).cvm_id;
    const list1 = await timed(() => m.call('ListVms', {}), 100);
    const get1 = await timed(() => m.call('GetVm', { id: first }), 100);
    const firstPid = (await m.call('GetVm', { id: first })).pid;
    const guard1 = await guardCosts([firstPid], s);
    const rss1 = rssMiB(m.pid);
    const t = ms();
    await inWaves([...Array(n - 1).keys()], 10, () => m.call('CreateVm', {}));
    const createAllMs = ms() - t;
    const listed = (await m.call('ListVms', {})).vms;
    if (listed.length !== n || !listed.every((v) => v.state === 'running')) throw new Error(`${listed.length} VMs listed, not all running`);
    const listN = await timed(() => m.call('ListVms', {}), 100);
    const getN = await timed(() => m.call('GetVm', { id: first }), 100);
    const guardN = await guardCosts(
      listed.map((v) => v.pid),
      s,
    );
    const rssN = rssMiB(m.pid);
    figures.push(
      fig(`ListVms latency at ${label}, over at 1`, listN, 'ms', list1, listN / list1, '≤ 1.5', listN / list1 <= 1.5, { createAllMs: +createAllMs.toFixed(0) }),
    );
    figures.push(fig(`GetVm latency at ${label}, over at 1`, getN, 'ms', get1, getN / get1, '≤ 1.2', getN / get1 <= 1.2));
    figures.push(
      fig(`manager RSS per VM at ${label}`, (rssN - rss1) / (n - 1), 'MiB', rss1, rssN / rss1, '≤ 0.5 MiB per VM', (rssN - rss1) / (n - 1) <= 0.5, {
        rssMiB: +rssN.toFixed(1),
      }),
    );
    for (const [kind, key] of [
      ['a repeat local client', 'repeat'],
      ['a new local client process', 'fresh'],
      ["a guest's further connections", 'guest'],
    ]) {
      figures.push(
        fig(
          `VM-origin guard per connection, ${kind}, at ${label} (same uid), over at 1`,
          guardN[key],
          'ms',
          guard1[key],
          guardN[key] / guard1[key],
          '≤ 1.5',
          guardN[key] / guard1[key] <= 1.5,
        ),
      );
    }
    figures.push(
      fig(
        `VM-origin guard refusing a guest's first connection at ${label} (every QEMU's descriptors read), over at 1`,
        guardN.guestFirst,
        'ms',
        guard1.guestFirst,
        guardN.guestFirst / guard1.guestFirst,
        'none: what every connection cost before issue 24',
        true,
      ),
    );

    // Idle CPU with the VMs as its own children (exit events), then below as re-adopted ones (the liveness watch).
    const ownIdle = await idleCpuPercent(m.pid);

    // Restart: kill -9; an empty manager under the same load, then the real one until all are re-adopted.
    await m.kill9();
    m = null;
    const emptyBase = tempBase('many-empty');
    const empty = await spawnUntil(manyEnv(emptyBase, n, '23300-23309'), () => true);
    empty.child.kill('SIGTERM');
    await empty.child;
    rmSync(emptyBase, { recursive: true, force: true });
    const restart = await spawnUntil(env, (vms) => vms.length === n && vms.every((v) => v.adopted && v.state === 'running'));
    const extra = restart.took - empty.took;
    figures.push(
      fig(
        `restart with ${label}: spawn → all re-adopted, minus an empty manager spawned under the same load`,
        extra,
        'ms',
        empty.took,
        restart.took / empty.took,
        '≤ +3000 ms',
        extra <= 3000,
        {
          restartMs: +restart.took.toFixed(0),
        },
      ),
    );
    restart.child.kill('SIGTERM');
    await restart.child;
    m = await startManager(env);
    const adoptedIdle = await idleCpuPercent(m.pid);
    figures.push(
      fig(
        `manager CPU while ${label} idle, re-adopted after a restart (% of one core, 20 s), over the same VMs as its own children`,
        adoptedIdle,
        '%',
        ownIdle,
        adoptedIdle / Math.max(ownIdle, 0.05),
        '≤ 1 % of one core',
        adoptedIdle <= 1,
      ),
    );
    const ids = (await m.call('ListVms', {})).vms.map((v) => v.id);
    const removeTimes = [];
    const t1 = ms();
    await inWaves(ids, 10, async (id) => {
      const t0 = ms();
      await m.call('RemoveVm', { cvm_id: id });
      removeTimes.push(ms() - t0);
    });
    const removeAllMs = ms() - t1;
    const left = (await m.call('ListVms', {})).vms.length;
    if (left !== 0) throw new Error(`${left} VMs left after removing all`);
    const reap = await orphanReapMs();
    figures.push(
      fig(
        `RemoveVm of ${label}, re-adopted, 10 at a time: median per call, over this machine's init reaping an orphan`,
        median(removeTimes),
        'ms',
        reap,
        median(removeTimes) / reap,
        'none (reported: the QEMU is gone, not a zombie, at the answer)',
        true,
        { removeAllMs: +removeAllMs.toFixed(0) },
      ),
    );
  } finally {
    await m?.stop();
    s.srv.close();
    killQemusUnder(base);
    rmSync(base, { recursive: true, force: true });
  }
  return figures;
}

/** The manager's (and its spawner's) CPU over 20 s of idling, after 3 s to settle, in % of one core. */
async function idleCpuPercent(pid) {
  await sleep(3000);
  const before = managerCpuSeconds(pid);
  await sleep(20_000);
  return +(((managerCpuSeconds(pid) - before) / 20) * 100).toFixed(2);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await runManyRealVms()) console.log(JSON.stringify(f));
  process.exit(0);
}
