import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, execaSync } from 'execa';
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadManagerProto } from '@cocos-manager/contract';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  dirEntries,
  MAIN,
  pidsWithArg,
  processState,
  REPO,
  spawnerOf,
  startManager,
  testManagerEnv,
  until,
  waitForGuest,
  type CreatedVm,
  type WireVm,
} from './harness.js';

// sudo mode with Debian's real sudo and real QEMU: as root (how CI runs) and
// as a throw-away unprivileged user whose sudoers rule allows only QEMU,
// kill and chown without a password.

const SUDO = { MANAGER_QEMU_USE_SUDO: 'true', MANAGER_VM_POWERDOWN_TIMEOUT: '0s' };
/** A real QEMU whose QMP never greets (tools/stand-in/qemu-silent-qmp). */
const SILENT_QMP = path.join(REPO, 'tools/stand-in/qemu-silent-qmp');
/** The real QEMU started paused (-S): for supervision checks that need no boot. */
const PAUSED = path.join(REPO, 'tools/stand-in/qemu-paused');
const USER = 'cm-sudo-e2e';
const SUDOERS = `/etc/sudoers.d/${USER}`;

/** Owner uid of a live process, from /proc. */
function uidOf(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}
function argvOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((a) => a !== '');
}
/** Our QEMU processes (not their sudo) under `runDir`. */
function qemusOf(runDir: string): number[] {
  return pidsWithArg(runDir).filter((pid) => {
    try {
      return !argvOf(pid)[0]!.endsWith('sudo');
    } catch {
      return false;
    }
  });
}
/** Every process whose command line mentions `needle` (QEMU, its sudo, a stand-in's shell). */
function processesMentioning(needle: string): number[] {
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}
function killAll(runDir: string): void {
  for (const pid of pidsWithArg(runDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

interface Manager {
  readonly pid: number;
  readonly runDir: string;
  readonly stateDir: string;
  readonly process: ReturnType<typeof execa>;
  call<T = Record<string, unknown>>(method: string, request: unknown): Promise<T>;
  output(): string;
  stop(): Promise<void>;
}

/** The real binary as `user` (setpriv execs it: the pid is the manager's own), on `base` owned by that user. */
async function startAs(user: { uid: number; gid: number }, base: string, range: string, env: Record<string, string>): Promise<Manager> {
  const child = execa('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', process.execPath, MAIN], {
    env: { ...testManagerEnv(base, range), HOME: base, ...env },
    extendEnv: false,
    reject: false,
    all: true,
    buffer: false,
    forceKillAfterDelay: false,
  });
  let output = '';
  const grpcPort = await new Promise<number>((resolve, reject) => {
    child.all?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"transport":"grpc","address":"[^"]*:(\d+)"/.exec(output);
      if (m && output.includes('"msg":"manager started"')) resolve(Number(m[1]));
    });
    child.then((r) => reject(new Error(`manager exited (${r.exitCode}) before listening:\n${output}`)), reject);
  });
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
    output: () => output,
    async stop() {
      client.close();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await child;
    },
  };
}

describe('sudo mode as root (real sudo, real QEMU)', () => {
  const managers: Array<{ dispose(): Promise<void> }> = [];
  afterEach(async () => {
    for (const m of managers.splice(0).reverse()) await m.dispose();
  });
  const start = async (range: string, env: Record<string, string> = {}, base?: string) => {
    const m = await startManager(range, { ...SUDO, ...env }, base);
    managers.push(m);
    return m;
  };

  it('tracks QEMU itself under sudo -n; kill -9 of QEMU is noticed and leaves nothing; remove leaves no QEMU', async () => {
    const m = await start('6700-6704');
    const a = await m.call<CreatedVm>('CreateVm', {});
    await waitForGuest(Number(a.forwarded_port));
    const { pid } = await m.call<WireVm>('GetVm', { id: a.cvm_id });
    // The recorded pid is QEMU's (a child of `sudo -n qemu …`), not sudo's.
    expect(argvOf(pid)[0]).toMatch(/qemu-system-x86_64$/);
    expect(argvOf(parentOf(pid)).slice(0, 2)).toEqual(['sudo', '-n']);
    expect(JSON.parse(readFileSync(path.join(m.stateDir, `${a.cvm_id}.json`), 'utf8'))).toMatchObject({ pid });

    process.kill(pid, 'SIGKILL');
    await until(async () => (await m.call<WireVm>('GetVm', { id: a.cvm_id })).state === 'failed', 3000, 'the VM to be failed');
    expect((await m.call<WireVm>('GetVm', { id: a.cvm_id })).exit?.reason).toMatch(/QEMU killed by SIGKILL/);
    await until(
      () => pidsWithArg(m.runDir).length === 0 && processState(pid) === null && dirEntries(m.runDir).length === 0,
      3000,
      'QEMU, its sudo and the VM files to go',
    );
    await m.call('RemoveVm', { cvm_id: a.cvm_id });

    const b = await m.call<CreatedVm>('CreateVm', {});
    const sudoOfB = parentOf((await m.call<WireVm>('GetVm', { id: b.cvm_id })).pid);
    await m.call('RemoveVm', { cvm_id: b.cvm_id });
    expect(pidsWithArg(m.runDir)).toEqual([]);
    expect(processState(sudoOfB)).toBeNull();
    expect(dirEntries(m.runDir)).toEqual([]);
  });

  it('a stop ladder that ends in SIGKILL kills QEMU itself, not only sudo: no root QEMU left', async () => {
    // SIGSTOP makes QEMU ignore SIGTERM (and QMP): the ladder must reach SIGKILL, aimed at QEMU.
    const m = await start('6705-6709', { MANAGER_VM_STOP_TIMEOUT: '1s' });
    const created = await m.call<CreatedVm>('CreateVm', {});
    const { pid } = await m.call<WireVm>('GetVm', { id: created.cvm_id });
    process.kill(pid, 'SIGSTOP');
    await m.call('RemoveVm', { cvm_id: created.cvm_id });
    expect(m.output()).toMatch(/QEMU ignored SIGTERM; sending SIGKILL/);
    expect(processState(pid)).toBeNull();
    expect(pidsWithArg(m.runDir)).toEqual([]);
  });

  it('a create rolled back after spawning (QMP start timeout) SIGKILLs QEMU itself: no root QEMU left', async () => {
    // A real QEMU (under sudo) whose QMP socket accepts but never greets: the timeout is reached however fast QEMU starts.
    const m = await start('6705-6709', { MANAGER_VM_START_TIMEOUT: '1s', MANAGER_QEMU_BIN_PATH: SILENT_QMP });
    const seen = new Set<number>();
    const sampling = setInterval(() => qemusOf(m.runDir).forEach((pid) => seen.add(pid)), 50);
    const began = Date.now();
    const failure = await m.call('CreateVm', {}).catch((err: unknown) => err);
    clearInterval(sampling);
    expect(failure).toMatchObject({ details: 'QEMU_START_TIMEOUT: QEMU did not answer on its QMP socket within MANAGER_VM_START_TIMEOUT (1000 ms)' });
    expect(Date.now() - began).toBeGreaterThanOrEqual(1000);
    // It was QEMU itself (root's, a child of sudo) that ran meanwhile, and it is gone, its sudo too.
    expect(seen.size).toBe(1);
    expect(m.output()).toMatch(/"msg":"launching QEMU"/);
    await until(() => processesMentioning(m.runDir).length === 0, 3000, 'QEMU and its sudo to go');
    for (const pid of seen) expect(processState(pid)).toBeNull();
    expect(dirEntries(m.runDir)).toEqual([]);
  });

  it('the QEMU spawner killed: sudo and QEMU run on, a kill -9 of QEMU is still seen, removal stops QEMU itself', async () => {
    const m = await start('6720-6724', { MANAGER_QEMU_BIN_PATH: PAUSED, MANAGER_QEMU_MEMORY_SIZE: '64M' });
    const [a, b] = [await m.call<CreatedVm>('CreateVm', {}), await m.call<CreatedVm>('CreateVm', {})];
    const [pidA, pidB] = [(await m.call<WireVm>('GetVm', { id: a.cvm_id })).pid, (await m.call<WireVm>('GetVm', { id: b.cvm_id })).pid];
    const spawner = spawnerOf(m.pid)!;
    expect(argvOf(parentOf(pidA)).slice(0, 2)).toEqual(['sudo', '-n']);
    expect(parentOf(parentOf(pidA))).toBe(spawner); // sudo is the spawner's child
    process.kill(spawner, 'SIGKILL');
    await until(() => (spawnerOf(m.pid) ?? spawner) !== spawner, 5000, 'a new spawner');
    expect(await m.call<WireVm>('GetVm', { id: a.cvm_id })).toMatchObject({ state: 'running', pid: pidA });

    process.kill(pidA, 'SIGKILL');
    await until(async () => (await m.call<WireVm>('GetVm', { id: a.cvm_id })).state === 'failed', 3000, 'the VM to be failed');
    await until(() => pidsWithArg(path.join(m.runDir, a.cvm_id)).length === 0 && dirEntries(m.runDir).length === 1, 3000, 'QEMU, its sudo and its files to go');
    await m.call('RemoveVm', { cvm_id: b.cvm_id });
    expect(processState(pidB)).toBeNull();
    await m.call('RemoveVm', { cvm_id: a.cvm_id });
    await until(() => processesMentioning(m.runDir).length === 0, 3000, 'every sudo to go');
  });

  it('a new manager re-adopts the QEMU (not its sudo) and can remove it', async () => {
    const first = await start('6705-6709');
    const created = await first.call<CreatedVm>('CreateVm', {});
    const { pid } = await first.call<WireVm>('GetVm', { id: created.cvm_id });
    await first.kill9();
    const second = await start('6705-6709', {}, first.base);
    expect(await second.call<WireVm>('GetVm', { id: created.cvm_id })).toMatchObject({ state: 'running', adopted: true, pid });
    expect(processState(parentOf(pid))).not.toBeNull(); // its sudo was left alone too
    await second.call('RemoveVm', { cvm_id: created.cvm_id });
    expect(pidsWithArg(second.runDir)).toEqual([]);
  });

  it('a manager killed -9 while QEMU starts leaves no root QEMU after the next start', async () => {
    const first = await start('6710-6714', { MANAGER_TEST_HOOKS: '1', MANAGER_TEST_CRASH_AFTER: 'spawn' });
    await expect(first.call('CreateVm', {})).rejects.toMatchObject({ code: expect.any(Number) });
    expect((await first.process).signal).toBe('SIGKILL');
    expect(qemusOf(first.runDir)).toHaveLength(1);
    const second = await start('6710-6714', {}, first.base);
    expect(pidsWithArg(second.runDir)).toEqual([]);
  });
});

describe('sudo mode as an unprivileged manager user (real sudo, real QEMU)', () => {
  let user: { uid: number; gid: number };
  const bases: string[] = [];
  const running: Manager[] = [];
  beforeAll(() => {
    execaSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
    user = { uid: Number(execaSync('id', ['-u', USER]).stdout), gid: Number(execaSync('id', ['-g', USER]).stdout) };
    writeFileSync(SUDOERS, `${USER} ALL=(root) NOPASSWD: /usr/bin/qemu-system-x86_64, /usr/bin/kill, /usr/bin/chown\n`, { mode: 0o440 });
    execaSync('visudo', ['-cf', SUDOERS]);
  });
  afterEach(async () => {
    for (const m of running.splice(0)) await m.stop();
    for (const base of bases.splice(0)) {
      killAll(path.join(base, 'run'));
      rmSync(base, { recursive: true, force: true });
    }
  });
  afterAll(() => {
    rmSync(SUDOERS, { force: true });
    execaSync('userdel', [USER], { reject: false });
  });
  const base = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-sudo-'));
    chownSync(dir, user.uid, user.gid);
    bases.push(dir);
    return dir;
  };
  const start = async (dir: string, range: string, env: Record<string, string> = {}) => {
    const m = await startAs(user, dir, range, { ...SUDO, MANAGER_VM_STOP_TIMEOUT: '1s', ...env });
    running.push(m);
    return m;
  };

  it('creates (QMP reached, guest answers), survives kill -9 of QEMU, removes: QEMU runs as root, nothing left', async () => {
    const m = await start(base(), '6715-6719');
    expect(uidOf(m.pid)).toBe(user.uid);
    const a = await m.call<CreatedVm>('CreateVm', {});
    await waitForGuest(Number(a.forwarded_port));
    const vmA = await m.call<WireVm>('GetVm', { id: a.cvm_id });
    expect(uidOf(vmA.pid)).toBe(0);
    expect(vmA.guest_status).toBe('running'); // through QMP: the root-owned socket was taken over

    process.kill(vmA.pid, 'SIGKILL');
    await until(async () => (await m.call<WireVm>('GetVm', { id: a.cvm_id })).state === 'failed', 3000, 'the VM to be failed');
    await until(() => pidsWithArg(path.join(m.runDir, a.cvm_id)).length === 0, 3000, 'QEMU and its sudo to go');
    await m.call('RemoveVm', { cvm_id: a.cvm_id });

    // Stopped by an unprivileged manager: SIGSTOP forces the ladder to SIGKILL, sent through sudo -n kill.
    const b = await m.call<CreatedVm>('CreateVm', {});
    const { pid } = await m.call<WireVm>('GetVm', { id: b.cvm_id });
    process.kill(pid, 'SIGSTOP');
    await m.call('RemoveVm', { cvm_id: b.cvm_id });
    expect(m.output()).toMatch(/QEMU ignored SIGTERM; sending SIGKILL/);
    expect(processState(pid)).toBeNull();
    expect(pidsWithArg(m.runDir)).toEqual([]);
    expect(dirEntries(m.runDir)).toEqual([]);
  });

  it('the QEMU spawner killed: root QEMUs run on, a kill -9 is still seen, removal signals QEMU through sudo -n kill', async () => {
    const m = await start(base(), '6715-6719');
    const [a, b] = [await m.call<CreatedVm>('CreateVm', {}), await m.call<CreatedVm>('CreateVm', {})];
    const [pidA, pidB] = [(await m.call<WireVm>('GetVm', { id: a.cvm_id })).pid, (await m.call<WireVm>('GetVm', { id: b.cvm_id })).pid];
    const spawner = spawnerOf(m.pid)!;
    expect([uidOf(spawner), uidOf(pidA)]).toEqual([user.uid, 0]);
    process.kill(spawner, 'SIGKILL');
    await until(() => (spawnerOf(m.pid) ?? spawner) !== spawner, 5000, 'a new spawner');

    process.kill(pidA, 'SIGKILL');
    await until(async () => (await m.call<WireVm>('GetVm', { id: a.cvm_id })).state === 'failed', 3000, 'the VM to be failed');
    // The stop ladder's SIGTERM to a root QEMU that is nobody's child of ours: through sudo -n kill.
    await m.call('RemoveVm', { cvm_id: b.cvm_id });
    expect(processState(pidB)).toBeNull();
    await m.call('RemoveVm', { cvm_id: a.cvm_id });
    await until(() => processesMentioning(m.runDir).length === 0, 3000, 'every QEMU and sudo to go');
    expect(dirEntries(m.runDir)).toEqual([]);
  });

  it('a manager killed -9 while QEMU starts leaves no root QEMU after the next start', async () => {
    const dir = base();
    const first = await start(dir, '6715-6719', { MANAGER_TEST_HOOKS: '1', MANAGER_TEST_CRASH_AFTER: 'spawn' });
    await expect(first.call('CreateVm', {})).rejects.toMatchObject({ code: expect.any(Number) });
    expect((await first.process).signal).toBe('SIGKILL');
    const orphans = qemusOf(first.runDir);
    expect(orphans.map(uidOf)).toEqual([0]);
    const second = await start(dir, '6715-6719');
    expect(
      pidsWithArg(second.runDir),
      second
        .output()
        .split('\n')
        .filter((l) => /QEMU/.test(l))
        .join('\n'),
    ).toEqual([]);
    expect(processState(orphans[0]!)).toBeNull();
  });

  it("a QEMU that sudo would ask a password for fails the create at once with sudo's one line", async () => {
    const dir = base();
    // A program the rule does not name (sudo matches symlinks by inode, so a wrapper): sudo -n refuses instead of prompting.
    const alias = path.join(dir, 'qemu-system-x86_64');
    writeFileSync(alias, '#!/bin/sh\nexec /usr/bin/qemu-system-x86_64 "$@"\n', { mode: 0o755 });
    const m = await start(dir, '6715-6719', { MANAGER_QEMU_BIN_PATH: alias });
    const began = Date.now();
    const err = await m.call('CreateVm', {}).catch((e: ServiceError) => e);
    expect(Date.now() - began).toBeLessThan(5000);
    expect((err as ServiceError).details).toMatch(/"sudo -n" refused to start QEMU: sudo: a password is required/);
    expect(readdirSync(m.runDir)).toEqual([]);
  });
});
