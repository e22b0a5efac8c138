// The manager's own cost, measured against QEMU and a bare gRPC server in the
// same run (BENCHMARKS.md explains each figure).
import { rmSync } from 'node:fs';
import grpc from '@grpc/grpc-js';
import { execa } from 'execa';
import { loadManagerProto } from '@cocos-manager/contract';
import { benchEnv, guestAnswers, median, ms, percentile, rawQemu, rssMiB, sleep, spread, startManager, tempBase } from './lib.mjs';

const fig = (name, value, unit, baseline, ratio, goal, met, extra = {}) => ({
  name,
  value: +value.toFixed(2),
  unit,
  baseline: +baseline.toFixed(2),
  ratio: +ratio.toFixed(3),
  goal,
  met,
  ...extra,
});

/** 1. CreateVm response time minus spawning the same argv directly (both until QEMU answers QMP). */
async function createOverhead() {
  const base = tempBase('create');
  const env = benchEnv(base, '6600-6631');
  const m = await startManager(env);
  const creates = [];
  const raws = [];
  try {
    for (let i = 0; i < 15; i++) {
      const t = ms();
      const vm = await m.call('CreateVm', {});
      creates.push(ms() - t);
      await m.call('RemoveVm', { cvm_id: vm.cvm_id });
      const raw = await rawQemu(env, base);
      raws.push(raw.readyMs);
      await raw.stop();
    }
  } finally {
    await m.stop();
    rmSync(base, { recursive: true, force: true });
  }
  const overhead = median(creates) - median(raws);
  return fig(
    'CreateVm response minus raw QEMU spawn (until QMP answers)',
    overhead,
    'ms',
    median(raws),
    median(creates) / median(raws),
    'median overhead ≤ 25 ms',
    overhead <= 25,
    { createMedianMs: +median(creates).toFixed(1), createSpreadMs: +spread(creates).toFixed(1), rawSpreadMs: +spread(raws).toFixed(1) },
  );
}

/** 2. CreateVm → guest answers, over raw spawn → guest answers. */
async function bootRatio() {
  const base = tempBase('boot');
  const env = benchEnv(base, '6632-6640');
  const m = await startManager(env);
  const managed = [];
  const raw = [];
  try {
    for (let i = 0; i < 3; i++) {
      const t = ms();
      const vm = await m.call('CreateVm', {});
      managed.push(await guestAnswers(Number(vm.forwarded_port), t));
      await m.call('RemoveVm', { cvm_id: vm.cvm_id });
      const q = await rawQemu(env, base);
      raw.push(await guestAnswers(q.port, q.t0));
      await q.stop();
    }
  } finally {
    await m.stop();
    rmSync(base, { recursive: true, force: true });
  }
  const ratio = median(managed) / median(raw);
  return fig('CreateVm → guest answers, over raw spawn → guest answers (TCG)', median(managed), 'ms', median(raw), ratio, 'ratio ≤ 1.05', ratio <= 1.05);
}

/** 4. CVMInfo throughput with 64 concurrent callers, against a bare grpc-js server answering the same message. */
async function cvmInfoThroughput() {
  const run = async (port, id) => {
    const { ManagerService } = loadManagerProto();
    const client = new ManagerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = () => new Promise((resolve, reject) => client.CVMInfo({ id }, (e, r) => (e ? reject(e) : resolve(r))));
    for (let i = 0; i < 200; i++) await call(); // warm up
    const latencies = [];
    const end = ms() + 4000;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (ms() < end) {
          const t = ms();
          await call();
          latencies.push(ms() - t);
        }
      }),
    );
    client.close();
    return { perSecond: latencies.length / 4, p99: percentile(latencies, 99) };
  };
  const base = tempBase('cvminfo');
  const env = benchEnv(base, '6641-6645');
  const m = await startManager(env);
  const vm = await m.call('CreateVm', {});
  const answer = await m.call('CVMInfo', { id: vm.cvm_id });
  // Freeze the guest while measuring: a TCG guest booting would take a whole
  // core from the manager that the bare server's run does not lose.
  const { pid } = await m.call('GetVm', { id: vm.cvm_id });
  process.kill(pid, 'SIGSTOP');
  const manager = await run(m.port, vm.cvm_id);
  process.kill(pid, 'SIGCONT');
  await m.call('RemoveVm', { cvm_id: vm.cvm_id });
  await m.stop();
  rmSync(base, { recursive: true, force: true });
  // The baseline: a bare server in its own process, answering the same message.
  const bare = execa(
    'node',
    [
      '--input-type=module',
      '-e',
      `
    import grpc from '@grpc/grpc-js';
    import { loadManagerProto } from '@cocos-manager/contract';
    const answer = ${JSON.stringify(answer)};
    const server = new grpc.Server();
    server.addService(loadManagerProto().ManagerService.service, { CVMInfo: (_c, cb) => cb(null, answer) });
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => console.log(port));
  `,
    ],
    { cwd: new URL('../', import.meta.url), reject: false, buffer: false, stdout: 'pipe' },
  );
  const barePort = await new Promise((resolve) => bare.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const baseline = await run(barePort, vm.cvm_id);
  bare.kill('SIGKILL');
  await bare;
  const ratio = manager.perSecond / baseline.perSecond;
  return fig(
    'CVMInfo throughput, 64 concurrent callers, over a bare grpc-js server',
    manager.perSecond,
    'calls/s',
    baseline.perSecond,
    ratio,
    'ratio ≥ 0.8 and p99 ≤ 5 ms',
    ratio >= 0.8 && manager.p99 <= 5,
    { p99Ms: +manager.p99.toFixed(2), bareP99Ms: +baseline.p99.toFixed(2) },
  );
}

/** RSS of a process that only loads the libraries the manager is built from: the floor under figure 5. */
async function librariesFloor() {
  const probe = execa(
    'node',
    [
      '--input-type=module',
      '-e',
      `
    import 'reflect-metadata';
    import { readFileSync } from 'node:fs';
    for (const m of ['@grpc/grpc-js', '@grpc/proto-loader', 'fastify', 'prom-client', '@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', 'pino', 'convict', 'execa', 'tsyringe', 'commander', 'cbor-x']) await import(m);
    setTimeout(() => { console.log(Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024); process.exit(0); }, 1500);
  `,
    ],
    { cwd: new URL('../apps/manager/', import.meta.url) },
  );
  return Number((await probe).stdout.trim());
}

/** 5, 6, 7: memory with 10 VMs, restart re-adoption, concurrent creates. */
async function tenVms() {
  const base = tempBase('ten');
  const env = benchEnv(base, '6650-6670');
  const baselineNode = execa('node', ['-e', 'setInterval(() => {}, 1000)'], { reject: false });
  await sleep(1500);
  const bareRss = rssMiB(baselineNode.pid);
  baselineNode.kill('SIGKILL');
  await baselineNode;

  let m = await startManager(env);
  const figures = [];
  try {
    await sleep(2000);
    const idle = rssMiB(m.pid);
    // The physical floor of 7: the same QEMU start-ups without the manager, on the same idle cores.
    const rawOne = [];
    for (let i = 0; i < 3; i++) {
      const q = await rawQemu(env, base);
      rawOne.push(q.readyMs);
      await q.stop();
    }
    const raws = await Promise.all(Array.from({ length: 10 }, () => rawQemu(env, base)));
    const rawWall = Math.max(...raws.map((q) => q.t0 + q.readyMs)) - Math.min(...raws.map((q) => q.t0));
    await Promise.all(raws.map((q) => q.stop()));
    const rawRatio = rawWall / median(rawOne);
    await sleep(1000);
    // 7. one create alone (median of 3), then 10 at once
    const singles = [];
    for (let i = 0; i < 3; i++) {
      const t = ms();
      const vm = await m.call('CreateVm', {});
      singles.push(ms() - t);
      await m.call('RemoveVm', { cvm_id: vm.cvm_id });
    }
    const t = ms();
    const vms = await Promise.all(Array.from({ length: 10 }, () => m.call('CreateVm', {})));
    const wall = ms() - t;
    const concurrencyRatio = wall / median(singles);
    await sleep(3000);
    const withTen = rssMiB(m.pid);
    const perVm = (withTen - idle) / 10;
    figures.push(
      fig('manager RSS idle, over a bare Node.js process', idle, 'MiB', bareRss, idle / bareRss, 'idle ≤ 80 MiB', idle <= 80, {
        librariesOnlyMiB: +(await librariesFloor()).toFixed(1),
      }),
    );
    figures.push(fig('manager RSS per running VM (10 VMs)', perVm, 'MiB', idle, withTen / idle, '≤ 2 MiB per VM', perVm <= 2));
    figures.push(
      fig('10 concurrent CreateVm wall time, over one CreateVm', wall, 'ms', median(singles), concurrencyRatio, 'ratio ≤ 1.5', concurrencyRatio <= 1.5, {
        rawQemuTenWallMs: +rawWall.toFixed(1),
        rawQemuOneMs: +median(rawOne).toFixed(1),
        rawQemuRatio: +rawRatio.toFixed(2),
      }),
    );
    // 6. kill -9, restart on the same directories, time until all 10 are re-adopted and listed running
    const idleStart = m.startupMs;
    await m.kill9();
    m = await startManager(env);
    let adoptedMs = 0;
    for (;;) {
      const { vms: listed } = await m.call('ListVms', {});
      if (listed.filter((v) => v.state === 'running' && v.adopted).length === 10) {
        adoptedMs = ms() - m.listeningAt;
        break;
      }
      await sleep(5);
    }
    figures.push(
      fig(
        'restart with 10 running VMs: all re-adopted after the new manager listens',
        adoptedMs,
        'ms',
        idleStart,
        m.startupMs / idleStart,
        '≤ 500 ms',
        adoptedMs <= 500,
        { startupWith10Ms: +m.startupMs.toFixed(1), startupEmptyMs: +idleStart.toFixed(1) },
      ),
    );
    await Promise.all(vms.map((vm) => m.call('RemoveVm', { cvm_id: vm.cvm_id })));
  } finally {
    await m.stop();
    rmSync(base, { recursive: true, force: true });
  }
  return figures;
}

export async function runManagerFigures() {
  const figures = [];
  for (const [name, run] of [
    ['create overhead', createOverhead],
    ['boot ratio', bootRatio],
    ['CVMInfo throughput', cvmInfoThroughput],
    ['ten VMs', tenVms],
  ]) {
    process.stderr.write(`bench: ${name}…\n`);
    const result = await run();
    for (const f of [result].flat()) {
      console.log(JSON.stringify(f));
      figures.push(f);
    }
  }
  return figures;
}
