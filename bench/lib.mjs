// Shared pieces of the benchmarks: the real cocos-manager binary, its gRPC
// API, raw QEMU launches of the same argv, and statistics.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import grpc from '@grpc/grpc-js';
import { loadManagerProto } from '@cocos-manager/contract';
import { QmpClient } from '@cocos-manager/core/internal';
import { devGuest, devGuestEnv } from '@cocos-manager/testing';

export const REPO = fileURLToPath(new URL('../', import.meta.url));
export const MAIN = path.join(REPO, 'apps/manager/dist/main.js');
const GUEST = path.join(REPO, 'build/dev-guest');

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const spread = (xs) => Math.max(...xs) - Math.min(...xs);
export const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
export const ms = () => Number(process.hrtime.bigint()) / 1e6;
export const sleep = (t) => new Promise((r) => setTimeout(r, t));
/** One figure of bench/results.json: a value, its same-run baseline and their ratio. */
export const fig = (name, value, unit, baseline, ratio, goal, met, extra = {}) => ({
  name,
  value: +value.toFixed(2),
  unit,
  baseline: +baseline.toFixed(2),
  ratio: +ratio.toFixed(3),
  goal,
  met,
  ...extra,
});
/** CPU seconds (user + system) the process used so far. */
export function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

/** CPU seconds of a manager and of its Node children (the QEMU spawner), not of the QEMUs. */
export function managerCpuSeconds(pid) {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((task) => readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean));
  const nodeChildren = children.filter((child) => {
    try {
      return readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'node';
    } catch {
      return false; // gone meanwhile
    }
  });
  return [pid, ...nodeChildren].reduce((sum, p) => sum + cpuSeconds(p), 0);
}

export const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

/** The configuration every benchmark runs: the dev guest under TCG, small VMs. */
export function benchEnv(base, range, extra = {}) {
  return {
    PATH: process.env.PATH,
    MANAGER_RUN_DIR: path.join(base, 'run'),
    MANAGER_STATE_DIR: path.join(base, 'state'),
    MANAGER_GRPC_HOST: '127.0.0.1',
    MANAGER_GRPC_PORT: '0',
    MANAGER_HTTP_HOST: '127.0.0.1',
    MANAGER_HTTP_PORT: '0',
    ...devGuestEnv(devGuest(GUEST)),
    MANAGER_QEMU_MEMORY_SIZE: '256M',
    MANAGER_QEMU_HOST_FWD_RANGE: range,
    MANAGER_VM_POWERDOWN_TIMEOUT: '0s',
    COCOS_JAEGER_TRACE_RATIO: '0',
    MANAGER_MAX_VMS: '32',
    ...extra,
  };
}

/** Starts the real binary (`nodeArgs`: e.g. --cpu-prof); resolves when it serves. */
export async function startManager(env, nodeArgs = []) {
  const started = ms();
  const child = execa('node', [...nodeArgs, MAIN], { env, extendEnv: false, reject: false, all: true, buffer: false, forceKillAfterDelay: false });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    child.all.on('data', (chunk) => {
      output += chunk.toString();
      if (output.length > 1e6) output = output.slice(-1e5);
      const m = /"transport":"grpc","address":"[^"]*:(\d+)"/.exec(output);
      if (m && output.includes('"msg":"manager started"')) resolve(Number(m[1]));
    });
    child.then(() => reject(new Error(`manager exited:\n${output}`)));
  });
  const listeningAt = ms();
  // started: just before the spawn; listeningAt: once its log says it serves.
  const { ManagerService } = loadManagerProto();
  const client = new ManagerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = (method, req) => new Promise((resolve, reject) => client[method](req, (e, r) => (e ? reject(e) : resolve(r))));
  return {
    pid: child.pid,
    port,
    startupMs: listeningAt - started,
    spawnedAt: started,
    listeningAt,
    client,
    call,
    /** What it has logged so far (the last 100 kB once it passed 1 MB). */
    output: () => output,
    async stop() {
      client.close();
      child.kill('SIGTERM');
      await child;
    },
    async kill9() {
      client.close();
      child.kill('SIGKILL');
      await child;
    },
  };
}

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Raw QEMUs keep their files out of the manager's run directory: the manager
 * sweeps directories there that belong to no VM of its own.
 */
const rawEnvOf = (env) => ({ ...env, MANAGER_RUN_DIR: `${env.MANAGER_RUN_DIR}-raw` });

/** The argv `cocos-manager qemu-args` prints for one raw VM under `env` (placeholders for id and port). */
export async function qemuArgv(env) {
  return JSON.parse((await execa('node', [MAIN, 'qemu-args'], { env: rawEnvOf(env), extendEnv: false })).stdout);
}

/**
 * The baseline: the same QEMU argv the manager would run, spawned directly
 * (per-VM files made by hand, as an operator would, before the clock
 * starts). `prepareRawQemu` does everything but the spawn, so that several
 * can be spawned at the same instant; `start()` spawns and resolves when
 * QMP greets. `argv`: the template from qemuArgv (asked for when omitted).
 */
export async function prepareRawQemu(env, base, argv) {
  const id = crypto.randomUUID();
  const port = await freePort();
  const template = argv ?? (await qemuArgv(env));
  const args = template.map((a) => a.replaceAll('00000000-0000-0000-0000-000000000000', id).replace(/hostfwd=tcp::\d+-/, `hostfwd=tcp::${port}-`));
  const dir = path.join(rawEnvOf(env).MANAGER_RUN_DIR, id);
  mkdirSync(path.join(dir, 'env'), { recursive: true });
  mkdirSync(path.join(dir, 'certs'));
  writeFileSync(path.join(dir, 'env', 'environment'), `AGENT_CVM_ID=${id}\n`);
  for (const f of ['cert.pem', 'key.pem', 'ca.pem']) writeFileSync(path.join(dir, 'certs', f), '');
  copyFileSync('/usr/share/OVMF/OVMF_VARS.fd', path.join(dir, 'OVMF_VARS.fd'));
  return {
    id,
    port,
    async start() {
      const t0 = ms();
      const child = execa(args[0], args.slice(1), { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', detached: true });
      let qmp;
      while (!qmp) {
        try {
          // A long handshake timeout: QEMU serves one QMP client at a time, and a handshake
          // abandoned half-way (a slow start on a loaded machine) would keep the socket taken.
          qmp = await QmpClient.connect(path.join(dir, 'qmp.sock'), 30_000);
        } catch {
          await sleep(5);
        }
      }
      const readyMs = ms() - t0;
      return {
        id,
        port,
        t0,
        readyMs,
        async stop() {
          qmp.close();
          child.kill('SIGKILL');
          await child;
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** prepareRawQemu then start: one raw QEMU, ready when QMP greets. */
export async function rawQemu(env, base, argv) {
  return (await prepareRawQemu(env, base, argv)).start();
}

/** Resolves when the dev guest answers on `port`; the time it took from `t0`. */
export async function guestAnswers(port, t0) {
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
      if (res.ok && (await res.text()).includes('AGENT_CVM_ID=')) return ms() - t0;
    } catch {
      // not yet
    }
    await sleep(100);
  }
}

/**
 * A same-run baseline: a bare grpc-js server in its own process (the same
 * proto, nothing else), answering every call of each method in `answers`
 * with that method's fixed message. The answers travel in a file: a 1,000-VM
 * ListVms is larger than one argv string may be.
 */
export async function bareGrpcServer(answers) {
  const dir = tempBase('bare-grpc');
  const file = path.join(dir, 'answers.json');
  writeFileSync(file, JSON.stringify(answers));
  const child = execa(
    'node',
    [
      '--input-type=module',
      '-e',
      `
    import { readFileSync } from 'node:fs';
    import grpc from '@grpc/grpc-js';
    import { loadManagerProto } from '@cocos-manager/contract';
    const answers = JSON.parse(readFileSync(process.env.BARE_ANSWERS, 'utf8'));
    const server = new grpc.Server({ 'grpc.max_send_message_length': 64 * 2 ** 20 });
    const handlers = Object.fromEntries(Object.entries(answers).map(([method, answer]) => [method, (_c, cb) => cb(null, answer)]));
    server.addService(loadManagerProto().ManagerService.service, handlers);
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => console.log(port));
  `,
    ],
    { cwd: REPO, env: { ...process.env, BARE_ANSWERS: file }, reject: false, buffer: false, stdout: 'pipe' },
  );
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const { ManagerService } = loadManagerProto();
  const client = new ManagerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 2 ** 20 });
  return {
    pid: child.pid,
    port,
    call: (method, req) => new Promise((resolve, reject) => client[method](req, (e, r) => (e ? reject(e) : resolve(r)))),
    async stop() {
      client.close();
      child.kill('SIGKILL');
      await child;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function tempBase(name) {
  return mkdtempSync(path.join(os.tmpdir(), `cm-bench-${name}-`));
}
