// The machinery of e2e-sudo.test.ts: the real binary started as another user
// (setpriv), and what the tests read of processes in /proc (owners, argv, our
// QEMUs and their sudo).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadManagerProto } from '@cocos-manager/contract';
import { MAIN, managerServing, pidsWithArg, REPO, testManagerEnv } from './harness.js';

export const SUDO = { MANAGER_QEMU_USE_SUDO: 'true', MANAGER_VM_POWERDOWN_TIMEOUT: '0s' };
/** A real QEMU whose QMP never greets (tools/stand-in/qemu-silent-qmp). */
export const SILENT_QMP = path.join(REPO, 'tools/stand-in/qemu-silent-qmp');
/** The real QEMU started paused (-S): for supervision checks that need no boot. */
export const PAUSED = path.join(REPO, 'tools/stand-in/qemu-paused');
export const USER = 'cm-sudo-e2e';
export const SUDOERS = `/etc/sudoers.d/${USER}`;

/** Owner uid of a live process, from /proc. */
export function uidOf(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}
export function argvOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((a) => a !== '');
}
/** Our QEMU processes (not their sudo) under `runDir`. */
export function qemusOf(runDir: string): number[] {
  return pidsWithArg(runDir).filter((pid) => {
    try {
      return !argvOf(pid)[0]!.endsWith('sudo');
    } catch {
      return false;
    }
  });
}
/** Every process whose command line mentions `needle` (QEMU, its sudo, a stand-in's shell). */
export function processesMentioning(needle: string): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}
export function killAll(runDir: string): void {
  for (const pid of pidsWithArg(runDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export interface SudoTestManager {
  readonly pid: number;
  readonly runDir: string;
  readonly stateDir: string;
  readonly process: ReturnType<typeof execa>;
  call<T = Record<string, unknown>>(method: string, request: unknown): Promise<T>;
  output(): string;
  stop(): Promise<void>;
}

/** The real binary as `user` (setpriv execs it: the pid is the manager's own), on `base` owned by that user. */
export async function startAs(user: { uid: number; gid: number }, base: string, range: string, env: Record<string, string>): Promise<SudoTestManager> {
  const child = execa('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', process.execPath, MAIN], {
    env: { ...testManagerEnv(base, range), HOME: base, ...env },
    extendEnv: false,
    reject: false,
    all: true,
    buffer: false,
    forceKillAfterDelay: false,
  });
  const { grpcPort, output } = await managerServing(child, `the manager as uid ${user.uid}`);
  const { ManagerService } = loadManagerProto();
  const client = new ManagerService(`127.0.0.1:${grpcPort}`, credentials.createInsecure()) as Client &
    Record<string, (r: unknown, md: Metadata, cb: (e: ServiceError | null, res: unknown) => void) => void>;
  return {
    pid: child.pid!,
    runDir: path.join(base, 'run'),
    stateDir: path.join(base, 'state'),
    process: child,
    call: <T>(method: string, request: unknown) =>
      new Promise<T>((resolve, reject) => client[method]!(request, new Metadata(), (err, res) => (err ? reject(err) : resolve(res as T)))),
    output,
    async stop() {
      client.close();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await child;
    },
  };
}
