// The manager of the 1,000-VM figures (bench/thousand-vms.mjs), in a process
// of its own: the default build's plugins (apps/manager/dist/plugins.js), its
// V8 settings (young-generation.js first, as main.ts), the real gRPC and HTTP
// transports — and the test kit's FakeLauncher instead of QEMU, so the
// figures are the manager's own costs. Driven over the IPC channel:
//   {op: 'start', env}      → {grpcPort}          a manager on env's directories
//   {op: 'rss'}             → {rssMiB}            after a full garbage collection
//   {op: 'lag', seconds}    → {p50, p99, max}     event-loop delay over that window (ms)
//   {op: 'listCost', pageSize?} → {ms}            median time of the service's list() (or listPage) alone
//   {op: 'restart'}         → {ms, grpcPort}      stop (VMs left running), then a new manager on the same
//                                                 directories and launcher, timed until every VM is re-adopted
//   {op: 'empty', env}      → {ms}                the same for a manager with no VM (its own directories), then stopped
//   {op: 'stop'}            → {}                  stop, removing every VM
//   {op: 'exit'}            → {}                  the process exits
import '../apps/manager/dist/young-generation.js';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { PROCESS_LAUNCHER } from '@cocos-manager/core';
import { Manager } from '@cocos-manager/core/internal';
import { FakeLauncher } from '@cocos-manager/testing';
import { defaultPlugins } from '../apps/manager/dist/plugins.js';
import { restoreYoungGenerationGrowth } from '../apps/manager/dist/young-generation.js';

// Pids above pid_max: no real process has one, so the VM-origin guard never reads another process's descriptors.
const launcher = new FakeLauncher({}, { firstPid: Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1 });
let manager = null;
let env = null;
const ms = () => Number(process.hrtime.bigint()) / 1e6;

function build(e) {
  // Log lines go nowhere, as the binary's would to a journal nobody reads here; they are still formatted.
  return Manager.create({
    plugins: defaultPlugins,
    env: e,
    overrides: [{ token: PROCESS_LAUNCHER, useValue: launcher }],
    logger: pino({ level: e.MANAGER_LOG_LEVEL ?? 'info' }, pino.destination('/dev/null')),
  });
}
const grpcPort = (m) =>
  Number(
    m
      .transports()
      .find((t) => t.name === 'grpc')
      .address()
      .split(':')
      .pop(),
  );

async function timedStart(e) {
  const t = ms();
  const m = build(e);
  await m.start(); // resolves once every saved VM is re-adopted
  return { m, took: ms() - t };
}

const ops = {
  async start(msg) {
    env = msg.env;
    manager = build(env);
    await manager.start();
    restoreYoungGenerationGrowth(0);
    return { grpcPort: grpcPort(manager) };
  },
  async rss() {
    for (let i = 0; i < 3; i++) globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 500));
    return { rssMiB: process.memoryUsage().rss / 2 ** 20 };
  },
  async lag(msg) {
    // The histogram records each interval between its timer's runs: the lag is what exceeds the resolution.
    const resolutionMs = 5;
    const h = monitorEventLoopDelay({ resolution: resolutionMs });
    h.enable();
    await new Promise((r) => setTimeout(r, msg.seconds * 1000));
    h.disable();
    const lag = (ns) => Math.max(0, ns / 1e6 - resolutionMs);
    return { p50: lag(h.percentile(50)), p99: lag(h.percentile(99)), max: lag(h.max) };
  },
  async listCost(msg) {
    const times = [];
    for (let i = 0; i < 50; i++) {
      const t = ms();
      if (msg.pageSize) manager.service.listPage(msg.pageSize, '');
      else manager.service.list();
      times.push(ms() - t);
    }
    return { ms: times.sort((a, b) => a - b)[25] };
  },
  async restart() {
    await manager.stop({ removeVms: false });
    const { m, took } = await timedStart(env);
    manager = m;
    return { ms: took, grpcPort: grpcPort(m) };
  },
  async empty(msg) {
    const { m, took } = await timedStart(msg.env);
    await m.stop({ removeVms: true });
    return { ms: took };
  },
  async stop() {
    await manager?.stop({ removeVms: true });
    manager = null;
    return {};
  },
  async exit() {
    setTimeout(() => process.exit(0), 10); // (a --cpu-prof profile is written at exit)
    return {};
  },
};

process.on('message', (msg) => {
  ops[msg.op](msg).then(
    (reply) => process.send({ id: msg.id, ...reply }),
    (err) => process.send({ id: msg.id, error: String(err?.stack ?? err) }),
  );
});
process.send({ ready: true });
