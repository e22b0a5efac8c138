import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execaSync } from 'execa';
import type { ServiceError } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dirEntries, parentPid, pidsWithArg, processState, spawnerOf, startManager, until, waitForGuest, type CreatedVm, type WireVm } from './harness.js';
import {
  argvOf,
  killAll,
  PAUSED,
  processesMentioning,
  qemusOf,
  SILENT_QMP,
  startAs,
  SUDO,
  SUDOERS,
  uidOf,
  USER,
  type SudoTestManager,
} from './sudo-harness.js';

// sudo mode with Debian's real sudo and real QEMU: as root (how CI runs) and
// as a throw-away unprivileged user whose sudoers rule allows only QEMU,
// kill and chown without a password.

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
    expect(argvOf(parentPid(pid)).slice(0, 2)).toEqual(['sudo', '-n']);
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
    const sudoOfB = parentPid((await m.call<WireVm>('GetVm', { id: b.cvm_id })).pid);
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
    expect(argvOf(parentPid(pidA)).slice(0, 2)).toEqual(['sudo', '-n']);
    expect(parentPid(parentPid(pidA))).toBe(spawner); // sudo is the spawner's child
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
    expect(processState(parentPid(pid))).not.toBeNull(); // its sudo was left alone too
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
  const running: SudoTestManager[] = [];
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
