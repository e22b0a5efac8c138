// Figures 5, 6 and 7: memory idle and with ten VMs, ten concurrent creates,
// and a restart that re-adopts ten running VMs — each against a baseline
// taken in the same run under the same load.
import { rmSync } from 'node:fs';
import { execa } from 'execa';
import { memoryFloors } from './memory-floor.mjs';
import { benchEnv, fig, managerCpuSeconds, median, ms, prepareRawQemu, qemuArgv, rssMiB, sleep, startManager, tempBase } from './lib.mjs';

const TEN = 10;
const CONCURRENT_ROUNDS = 3;

/** RSS of a bare `node` process, 1.5 s after start. */
async function bareNodeRss() {
  const child = execa('node', ['-e', 'setInterval(() => {}, 1000)'], { reject: false });
  await sleep(1500);
  const rss = rssMiB(child.pid);
  child.kill('SIGKILL');
  await child;
  return rss;
}

/** Wall time of ten raw QEMU spawns of the manager's argv, all started at once, until every QMP greets. */
async function tenRawSpawns(env, base) {
  const argv = await qemuArgv(env);
  const prepared = await Promise.all(Array.from({ length: TEN }, () => prepareRawQemu(env, base, argv)));
  const cpu = process.cpuUsage();
  const t = ms();
  const started = await Promise.all(prepared.map((p) => p.start()));
  const wall = ms() - t;
  const { user, system } = process.cpuUsage(cpu);
  await Promise.all(started.map((q) => q.stop()));
  // The spawning process's own CPU (fork/exec and QMP polling of ten), to set beside the manager's.
  return { wall, cpuMs: (user + system) / 1000 };
}

/** Wall time of ten CreateVm at once (each answers once its QEMU greets on QMP); the VMs stay. */
async function tenCreates(m) {
  const cpu = managerCpuSeconds(m.pid);
  const t = ms();
  const vms = await Promise.all(Array.from({ length: TEN }, () => m.call('CreateVm', {})));
  const wall = ms() - t;
  return { wall, vms, cpuMs: (managerCpuSeconds(m.pid) - cpu) * 1000 };
}

/**
 * From a manager's own log (pino's `time`, ms): its gRPC transport listening
 * to "manager started", which it logs once re-adoption is done — the part of
 * a start that is the manager's work, not Node's start on a loaded machine.
 */
function listeningToStarted(output) {
  const timeOf = (pattern) => {
    const line = output.split('\n').find((l) => l.includes(pattern));
    return line ? JSON.parse(line).time : NaN;
  };
  return timeOf('"msg":"manager started"') - timeOf('"transport":"grpc","address"');
}

/** From the spawn of a manager until `done(ListVms answer)` holds. */
async function spawnUntil(env, done) {
  const m = await startManager(env);
  for (;;) {
    const { vms } = await m.call('ListVms', {});
    if (done(vms)) return { m, ms: ms() - m.spawnedAt };
    await sleep(5);
  }
}

export async function tenVmFigures() {
  const base = tempBase('ten');
  const env = benchEnv(base, '6650-6670');
  const emptyBase = tempBase('empty');
  const emptyEnv = benchEnv(emptyBase, '6671-6675');
  const figures = [];
  let m = await startManager(env);
  try {
    await sleep(2000);
    const idle = rssMiB(m.pid);
    const bareRss = await bareNodeRss();
    const floors = await memoryFloors();
    // 5a. What the manager adds to its libraries: idle RSS over the floor of the libraries a default configuration loads.
    const own = idle - floors.idleLibrariesMiB;
    figures.push(
      fig(
        'manager RSS idle (2 s after start, no VM) minus the libraries floor (the same libraries loaded alone)',
        own,
        'MiB',
        floors.idleLibrariesMiB,
        idle / floors.idleLibrariesMiB,
        '≤ floor + 8 MiB',
        own <= 8,
        {
          idleMiB: +idle.toFixed(1),
          bareNodeMiB: +bareRss.toFixed(1),
          librariesAllMiB: +floors.allLibrariesMiB.toFixed(1),
        },
      ),
    );

    // 7. Ten at once, against ten raw spawns of the same argv on the same machine (the physical cost).
    // Three rounds alternated (raw, manager, …), medians: one round of each moved by ±30 % between runs.
    const raws = [];
    const walls = [];
    const rawCpu = [];
    const managerCpu = [];
    let vms = [];
    for (let round = 0; round < CONCURRENT_ROUNDS; round++) {
      const spawned = await tenRawSpawns(env, base);
      raws.push(spawned.wall);
      rawCpu.push(spawned.cpuMs);
      await sleep(1000);
      const created = await tenCreates(m);
      walls.push(created.wall);
      managerCpu.push(created.cpuMs);
      vms = created.vms;
      if (round === CONCURRENT_ROUNDS - 1) break; // the last ten stay for the figures below
      await Promise.all(vms.map((vm) => m.call('RemoveVm', { cvm_id: vm.cvm_id })));
      await sleep(1000);
    }
    const raw = median(raws);
    const wall = median(walls);
    const concurrency = wall / raw;
    figures.push(
      fig(
        '10 concurrent CreateVm wall time, over 10 concurrent raw QEMU spawns of the same argv',
        wall,
        'ms',
        raw,
        concurrency,
        'ratio ≤ 1.05',
        concurrency <= 1.05,
        {
          rawRunsMs: raws.map((v) => +v.toFixed(1)),
          managerRunsMs: walls.map((v) => +v.toFixed(1)),
          // CPU on the two cores the ten QEMUs' start saturates: what the manager and its spawner used for the ten, against the bench's own for the raw ten.
          managerCpuMsPerCreate: +(median(managerCpu) / TEN).toFixed(1),
          rawSpawnerCpuMsPerSpawn: +(median(rawCpu) / TEN).toFixed(1),
        },
      ),
    );

    await sleep(3000);
    const withTen = rssMiB(m.pid);
    const perVm = (withTen - idle) / TEN;
    figures.push(fig('manager RSS per running VM (10 VMs)', perVm, 'MiB', idle, withTen / idle, '≤ 2 MiB per VM', perVm <= 2));

    // 6. kill -9 with ten running; under that same load, an empty manager (its own directories)
    // from spawn to its first ListVms answer, then the real restart from spawn until all ten
    // are listed running and adopted. Five rounds, medians.
    const empty = [];
    const restart = [];
    const emptyOwn = [];
    const restartOwn = [];
    for (let round = 0; round < 5; round++) {
      await m.kill9();
      const e = await spawnUntil(emptyEnv, () => true);
      empty.push(e.ms);
      emptyOwn.push(listeningToStarted(e.m.output()));
      await e.m.stop();
      const r = await spawnUntil(env, (listed) => listed.filter((v) => v.state === 'running' && v.adopted).length === TEN);
      restart.push(r.ms);
      restartOwn.push(listeningToStarted(r.m.output()));
      m = r.m;
    }
    const extra = median(restart) - median(empty);
    figures.push(
      fig(
        'restart with 10 running VMs: spawn → all 10 re-adopted, over an empty manager spawn → first ListVms (same load)',
        median(restart),
        'ms',
        median(empty),
        median(restart) / median(empty),
        'restart − empty ≤ +500 ms',
        extra <= 500,
        {
          extraMs: +extra.toFixed(1),
          restartRunsMs: restart.map((x) => +x.toFixed(1)),
          emptyRunsMs: empty.map((x) => +x.toFixed(1)),
          // The manager's own clock: its gRPC transport listening → "manager started" (re-adoption done), each side.
          restartListeningToStartedMs: median(restartOwn),
          emptyListeningToStartedMs: median(emptyOwn),
        },
      ),
    );
    await Promise.all(vms.map((vm) => m.call('RemoveVm', { cvm_id: vm.cvm_id })));
  } finally {
    await m.stop();
    rmSync(base, { recursive: true, force: true });
    rmSync(emptyBase, { recursive: true, force: true });
  }
  return figures;
}
