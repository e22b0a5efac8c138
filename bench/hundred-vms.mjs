// A hundred VMs on one manager (issue 14): each per-call figure at 100 running
// VMs against the same figure at 0 or 1, idle CPU and RSS at 100, and restart
// re-adoption of 100 against an empty manager spawned under the same load.
// The VMs are the paused-QEMU stand-in (tools/stand-in/qemu-paused): real QEMU
// processes with QMP, console and forwarded port whose guests never run, so a
// hundred fit on 2 cores (a hundred booting TCG guests would not).
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import { execa } from 'execa';
import { loadManagerProto } from '@cocos-manager/contract';
import { bareList } from './list-breakdown.mjs';
import { benchEnv, cpuSeconds, fig, freePort, MAIN, median, ms, qemuArgv, rawQemu, REPO, rssMiB, sleep, startManager, tempBase } from './lib.mjs';

const VMS = 100;
const STAND_IN = path.join(REPO, 'tools/stand-in/qemu-paused');
const hundredEnv = (base) =>
  benchEnv(base, '6800-6919', {
    MANAGER_QEMU_BIN_PATH: STAND_IN,
    MANAGER_MAX_VMS: String(VMS + 10),
    MANAGER_QEMU_MEMORY_SIZE: '64M',
    MANAGER_LOG_LEVEL: 'info',
  });

export function killQemusUnder(dir) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

async function timed(call, rounds) {
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const t = ms();
    await call();
    times.push(ms() - t);
  }
  return median(times);
}

/** Median CreateVm response after one warm-up (each VM removed again, so the count stays). */
async function createLatency(m) {
  const times = [];
  for (let i = 0; i < 10; i++) {
    const t = ms();
    const vm = await m.call('CreateVm', {});
    times.push(ms() - t);
    await m.call('RemoveVm', { cvm_id: vm.cvm_id });
  }
  return median(times.slice(1));
}

/** Alternated: CreateVm (then RemoveVm) and a raw spawn of the same argv until QMP greets (then killed); medians after one warm-up each. */
async function createVsRawAt100(m, env, base) {
  const argv = await qemuArgv(env);
  const creates = [];
  const raws = [];
  for (let i = 0; i < 10; i++) {
    const t = ms();
    const vm = await m.call('CreateVm', {});
    creates.push(ms() - t);
    await m.call('RemoveVm', { cvm_id: vm.cvm_id });
    const q = await rawQemu(env, base, argv);
    raws.push(q.readyMs);
    await q.stop();
  }
  return { create: median(creates.slice(1)), raw: median(raws.slice(1)) };
}

async function createMany(m, n) {
  const ids = [];
  for (let i = 0; i < n; i += 10)
    ids.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => m.call('CreateVm', {})))).map((v) => v.cvm_id));
  return ids;
}

/** Spawns the binary on a known gRPC port and polls ListVms from the spawn on; resolves with the time until `done(vms)`. */
export async function spawnUntil(env, done) {
  const port = await freePort();
  const t0 = ms();
  const child = execa('node', [MAIN], { env: { ...env, MANAGER_GRPC_PORT: String(port) }, extendEnv: false, reject: false, stdio: 'ignore' });
  const { ManagerService } = loadManagerProto();
  // Retry the connection every 10 ms (grpc-js backs off up to 120 s by default after a refused connect).
  const client = new ManagerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': 10,
    'grpc.max_reconnect_backoff_ms': 10,
  });
  const list = () => new Promise((resolve) => client.ListVms({}, { deadline: Date.now() + 2000 }, (e, r) => resolve(e ? null : r.vms)));
  for (;;) {
    const vms = await list();
    if (vms && done(vms)) break;
    await sleep(10);
  }
  const took = ms() - t0;
  client.close();
  return { took, child };
}

export async function runHundredVms() {
  const figures = [];
  const base = tempBase('hundred');
  const env = hundredEnv(base);
  let m = await startManager(env);
  try {
    await sleep(2000);
    const rssIdle = rssMiB(m.pid);
    const cpuIdle0 = cpuSeconds(m.pid);
    await sleep(20_000);
    const idleCpuPct = ((cpuSeconds(m.pid) - cpuIdle0) / 20) * 100;
    const create0 = await createLatency(m);

    const first = (await createMany(m, 1))[0];
    const list1 = await timed(() => m.call('ListVms', {}), 200);
    const answerAt1 = await m.call('ListVms', {});
    const get1 = await timed(() => m.call('GetVm', { id: first }), 200);
    await createMany(m, VMS - 1);
    const list100 = await timed(() => m.call('ListVms', {}), 200);
    // The wire's share: the same two answers (1 VM, 100 VMs) from bare grpc-js servers, alternated.
    const bare = await bareList(answerAt1, await m.call('ListVms', {}));
    const get100 = await timed(() => m.call('GetVm', { id: first }), 200);
    const create100 = await createLatency(m);
    figures.push(fig('CreateVm latency at 100 VMs running, over at 0', create100, 'ms', create0, create100 / create0, '≤ 1.2', create100 / create0 <= 1.2));
    // The honest one: at 100, against the same stand-in argv spawned directly under that same load (alternated).
    const { create, raw } = await createVsRawAt100(m, env, base);
    figures.push(
      fig(
        'CreateVm latency at 100 VMs running, over a raw spawn of the same argv at 100 (same load, alternated)',
        create,
        'ms',
        raw,
        create / raw,
        '≤ 1.1',
        create / raw <= 1.1,
        {
          overheadMs: +(create - raw).toFixed(1),
        },
      ),
    );
    figures.push(
      fig('ListVms latency at 100 VMs, over at 1 VM', list100, 'ms', list1, list100 / list1, '≤ 1.2', list100 / list1 <= 1.2, {
        bareAt1Ms: +bare.a.toFixed(2),
        bareAt100Ms: +bare.b.toFixed(2),
        bareRatio: +(bare.b / bare.a).toFixed(3),
      }),
    );
    figures.push(fig('GetVm latency at 100 VMs, over at 1 VM', get100, 'ms', get1, get100 / get1, '≤ 1.2', get100 / get1 <= 1.2));

    await sleep(2000);
    const cpu0 = cpuSeconds(m.pid);
    await sleep(60_000);
    const cpuPct = ((cpuSeconds(m.pid) - cpu0) / 60) * 100;
    figures.push(
      fig(
        'manager CPU while 100 VMs idle for 60 s (% of one core)',
        cpuPct,
        '%',
        idleCpuPct,
        idleCpuPct > 0 ? cpuPct / idleCpuPct : 0,
        '≤ 1 % of one core',
        cpuPct <= 1,
        {
          baselineIs: 'the same manager with no VM, 20 s',
        },
      ),
    );
    const rss100 = rssMiB(m.pid);
    figures.push(
      fig(
        'manager RSS at 100 VMs',
        rss100,
        'MiB',
        rssIdle,
        rss100 / rssIdle,
        `≤ idle + 100 × 2 MiB (${(rssIdle + 200).toFixed(0)} MiB)`,
        rss100 <= rssIdle + 200,
        {
          perVmMiB: +((rss100 - rssIdle) / VMS).toFixed(2),
        },
      ),
    );

    // Restart: the same load (100 paused QEMUs) for both; the baseline is an empty manager on its own directories.
    await m.kill9();
    m = null;
    const emptyBase = tempBase('hundred-empty');
    const empty = await spawnUntil(hundredEnv(emptyBase), () => true);
    empty.child.kill('SIGTERM');
    await empty.child;
    rmSync(emptyBase, { recursive: true, force: true });
    const restart = await spawnUntil(env, (vms) => vms.length === VMS && vms.every((v) => v.adopted && v.state === 'running'));
    const extra = restart.took - empty.took;
    figures.push(
      fig(
        'restart with 100 VMs running: spawn → all re-adopted, minus an empty manager spawned under the same load',
        extra,
        'ms',
        empty.took,
        restart.took / empty.took,
        '≤ +2000 ms',
        extra <= 2000,
        {
          restartMs: +restart.took.toFixed(1),
        },
      ),
    );
    restart.child.kill('SIGTERM');
    await restart.child;
    m = await startManager({ ...env, MANAGER_STOP_VMS_ON_EXIT: 'true' });
  } finally {
    await m?.stop();
    killQemusUnder(base); // whatever a failed run left
    rmSync(base, { recursive: true, force: true });
  }
  return figures;
}
