import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadManagerProto } from '@cocos-manager/contract';
import { devGuest, devGuestEnv } from '@cocos-manager/testing';
import { expectDescribedByOpenApi } from './openapi-check.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const MAIN = path.join(REPO, 'apps/manager/dist/main.js');
export const DEV_GUEST = path.join(REPO, 'build/dev-guest');

/** The environment every test manager gets: the dev guest, TCG, small VMs. */
export function testManagerEnv(base: string, range: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    MANAGER_RUN_DIR: path.join(base, 'run'),
    MANAGER_STATE_DIR: path.join(base, 'state'),
    MANAGER_GRPC_HOST: '127.0.0.1',
    MANAGER_GRPC_PORT: '0',
    MANAGER_HTTP_HOST: '127.0.0.1',
    MANAGER_HTTP_PORT: '0',
    // The e2e tests drive the REST mirror's writes too (off by default).
    MANAGER_HTTP_REST_WRITES: 'true',
    ...devGuestEnv(devGuest(DEV_GUEST)),
    MANAGER_QEMU_HOST_FWD_RANGE: range,
    MANAGER_LOG_LEVEL: 'debug',
    // Tracing has its own tests; elsewhere, flushing spans to a missing collector would only cost time.
    COCOS_JAEGER_TRACE_RATIO: '0',
  };
}

/** CreateRes as the tests receive it. */
export interface CreatedVm {
  readonly forwarded_port: string;
  readonly cvm_id: string;
}

/** VmInfo (GetVm/ListVms) as the tests receive it. */
export interface WireVm {
  readonly id: string;
  readonly state: string;
  readonly forwarded_port: string;
  readonly pid: number;
  readonly backend: string;
  readonly boot: string;
  readonly created_at: string;
  readonly ttl_deadline: string;
  readonly guest_status: string;
  readonly adopted: boolean;
  readonly exit: { code: number; signal: string; reason: string } | null;
  /** Why the VM's latest state is not on disk yet (empty when saved). */
  readonly state_write_error: string;
}

type Unary = (req: unknown, md: Metadata, cb: (err: ServiceError | null, res: unknown) => void) => void;

export interface RunningManager {
  /** Holds run/ and state/: pass it to startManager again to restart on the same dirs. */
  readonly base: string;
  readonly runDir: string;
  readonly stateDir: string;
  readonly pid: number;
  readonly httpPort: number;
  /** An HTTP request to the manager's REST API. */
  http(method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: unknown; text: string }>;
  readonly grpcPort: number;
  readonly process: ResultPromise;
  /** Everything the manager printed so far (stdout and stderr). */
  output(): string;
  /** A unary gRPC call; with `token`, sent as `authorization: Bearer <token>`. */
  call<T = Record<string, unknown>>(method: string, request: unknown, token?: string): Promise<T>;
  /** SIGTERM, then the exit code. VMs left running are the caller's to check. */
  stop(): Promise<number | undefined>;
  /** kill -9: no clean-up at all, as in a crash. */
  kill9(): Promise<void>;
  /** Test clean-up: stops the manager, kills any QEMU of ours left, removes the dirs. */
  dispose(): Promise<void>;
}

/**
 * Waits until the manager `child` (started with `all: true, buffer: false`)
 * logged "manager started"; its gRPC port, and its output so far and from then
 * on. Rejects, with that output, if `what` exits first.
 */
export async function managerServing(child: ResultPromise, what: string): Promise<{ grpcPort: number; output(): string }> {
  let output = '';
  const grpcPort = await new Promise<number>((resolve, reject) => {
    child.all?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"transport":"grpc","address":"[^"]*:(\d+)"/.exec(output);
      if (m && output.includes('"msg":"manager started"')) resolve(Number(m[1]));
    });
    child.then((r) => reject(new Error(`${what} exited (${r.exitCode}) before it served:\n${output}`)), reject);
  });
  return { grpcPort, output: () => output };
}

export async function startManager(range: string, env: Record<string, string> = {}, reuseBase?: string): Promise<RunningManager> {
  const base = reuseBase ?? (await mkdtemp(path.join(os.tmpdir(), 'cm-e2e-')));
  const runDir = path.join(base, 'run');
  const child = execa('node', [MAIN], {
    env: { ...testManagerEnv(base, range), ...env },
    extendEnv: false,
    reject: false,
    all: true,
    buffer: false,
    forceKillAfterDelay: false,
  });
  const { grpcPort, output } = await managerServing(child, 'manager');
  const httpPort = Number(/"transport":"http","address":"[^"]*:(\d+)"/.exec(output())?.[1] ?? 0);
  const { ManagerService } = loadManagerProto();
  const client = new ManagerService(`127.0.0.1:${grpcPort}`, credentials.createInsecure()) as Client & Record<string, Unary>;
  const stop = async () => {
    client.close();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return (await child).exitCode;
  };
  return {
    base,
    runDir,
    stateDir: path.join(base, 'state'),
    pid: child.pid!,
    grpcPort,
    httpPort,
    async http(method, urlPath, body) {
      const res = await fetch(`http://127.0.0.1:${httpPort}${urlPath}`, {
        method,
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        // not JSON (metrics, console)
      }
      // Every response the e2e tests get is one the manager's own /openapi.json describes.
      await expectDescribedByOpenApi(httpPort, method, urlPath, { status: res.status, contentType: res.headers.get('content-type'), text, json });
      return { status: res.status, json, text };
    },
    process: child,
    output,
    call: <T>(method: string, request: unknown, token?: string) =>
      new Promise<T>((resolve, reject) => {
        const metadata = new Metadata();
        if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
        client[method]!(request, metadata, (err, res) => (err ? reject(err) : resolve(res as T)));
      }),
    stop,
    async kill9() {
      client.close();
      child.kill('SIGKILL');
      await child;
    },
    async dispose() {
      await stop();
      for (const pid of pidsWithArg(runDir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** GETs the dev guest's answer on a forwarded port, retrying until it boots. */
export async function waitForGuest(port: number, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
      const body = await res.text();
      if (res.status === 200 && body.includes('AGENT_CVM_ID=')) return body;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`guest on port ${port} did not answer within ${timeoutMs} ms: ${String(last)}`);
}

export function parseGuestAnswer(body: string): Record<string, string> {
  return Object.fromEntries(
    body
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** Pids whose command line mentions `needle` (e.g. a run dir: only our QEMUs have it). */
export function pidsWithArg(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(needle) && cmdline.includes('qemu-system')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The QEMU spawner a manager runs (its child named cocos-manager-spawner), or null when none runs now. */
export function spawnerOf(managerPid: number): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (ppid === String(managerPid) && state !== 'Z' && readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith('cocos-manager-spawner'))
        return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** The parent of a live process. */
export function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** True when the pid is neither running nor a zombie waiting to be reaped. */
export function processGone(pid: number): boolean {
  return processState(pid) === null;
}

/** The process state letter (R, S, Z…), or null when the pid does not exist. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** Whether a TCP port can be bound on every address now (nothing holds it). */
export function portIsBindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

/** Resident memory of a process, in KiB. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** A directory's entries, leaving out a running manager's own lock file. */
export function dirEntries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((name) => name !== 'manager.lock') : [];
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
