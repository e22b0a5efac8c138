import { afterEach, describe, expect, it } from 'vitest';
import { emptyCreateVmRequest } from '@cocos-manager/core';
import { type Manager } from '@cocos-manager/core/internal';
import { FakeLauncher } from '../src/fake-launcher.js';
import { startFakeManager, testDirs, type TestDirs } from './fake-manager.js';

let dirs: TestDirs;
let manager: Manager | null = null;
afterEach(async () => {
  await manager?.stop({ removeVms: true });
  manager = null;
  dirs?.remove();
});

/** A first manager creates `n` VMs and stops, leaving them running; returns their ids and pids. */
async function leaveVmsRunning(launcher: FakeLauncher, n: number) {
  const first = await startFakeManager(dirs, { launcher });
  const vms = [];
  for (let i = 0; i < n; i++) vms.push(await first.service.create(emptyCreateVmRequest()));
  await first.stop({ removeVms: false });
  return vms.map((vm, i) => ({ id: vm.id, pid: launcher.processes[i]?.pid as number }));
}

describe('recovery after a manager restart (fake launcher)', () => {
  it('covers alive and verified, dead, pid reused and QMP missing', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const [alive, dead, reused, noQmp] = await leaveVmsRunning(launcher, 4);
    if (!alive || !dead || !reused || !noQmp) throw new Error('four VMs expected');
    expect(launcher.running).toHaveLength(4);

    launcher.byPid(dead.pid).exit({ signal: 'SIGKILL' });
    launcher.reusePid(reused.pid);
    launcher.breakQmp(noQmp.pid);
    manager = await startFakeManager(dirs, { launcher });
    const byId = new Map(manager.service.list().map((vm) => [vm.id, vm]));

    // Alive and verified: running again, adopted, its port held, supervised over QMP.
    expect(byId.get(alive.id)).toMatchObject({ state: 'running', adopted: true, pid: alive.pid });
    // Dead: visible as failed with the reason, its files gone, its port free.
    expect(byId.get(dead.id)).toMatchObject({ state: 'failed', adopted: true, pid: null });
    expect(byId.get(dead.id)?.exit?.reason).toMatch(/^QEMU ended while the manager was not running \(pid \d+ is not running\)$/);
    // Pid reused: forgotten, and the process now holding the pid was never signalled.
    expect(byId.has(reused.id)).toBe(false);
    expect(launcher.byPid(reused.pid).signals).toEqual([]);
    // QMP missing: adopted anyway; stop will use signals.
    expect(byId.get(noQmp.id)).toMatchObject({ state: 'running', adopted: true, pid: noQmp.pid });

    const left = await dirs.leftovers();
    expect(left.run.sort()).toEqual([alive.id, noQmp.id].sort());
    expect(left.state.sort()).toEqual([alive.id, dead.id, noQmp.id].map((id) => `${id}.json`).sort());
    expect(manager.service.portUsage().inUse).toBe(2);

    // The adopted VM with QMP powers down gracefully; the one without gets SIGTERM.
    await manager.service.remove(alive.id);
    expect(launcher.byPid(alive.pid).qmpCommands).toContain('system_powerdown');
    expect(launcher.byPid(alive.pid).signals).toEqual([]);
    await manager.service.remove(noQmp.id);
    expect(launcher.byPid(noQmp.pid).signals).toEqual(['SIGTERM']);
    expect(launcher.running).toEqual([]);
    expect(manager.service.portUsage().inUse).toBe(0);
  });

  it('serves while it re-adopts: saved VMs show as adopting, a create waits for recovery, then every VM runs', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const saved = await leaveVmsRunning(launcher, 2);
    launcher.identifyDelayMs = 300;
    let early: Manager | null = null;
    const starting = startFakeManager(dirs, { launcher, onCreated: (m) => (early = m) });
    const service = () => (early as Manager | null)?.service;
    await expect.poll(() => service()?.list().length).toBe(2);
    for (const { id, pid } of saved) {
      expect(
        service()
          ?.list()
          .find((vm) => vm.id === id),
      ).toMatchObject({ state: 'adopting', adopted: true, pid });
      expect(await service()?.get(id)).toMatchObject({ state: 'adopting', adopted: true, pid });
      expect(() => service()?.cvmInfo(id)).toThrow(/is being re-adopted after a manager restart; retry in a moment$/);
    }
    // A create sent now waits for recovery, so it can never take a port a re-adopted VM holds.
    const creating = service()!.create(emptyCreateVmRequest());
    manager = await starting;
    const adopted = manager.service.list().filter((vm) => vm.adopted);
    expect(adopted.map((vm) => vm.state)).toEqual(['running', 'running']);
    const created = await creating;
    expect(adopted.map((vm) => vm.forwardedPort)).not.toContain(created.forwardedPort);
  });

  it('an adopted VM that exits later is seen failed, and released', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const [vm] = await leaveVmsRunning(launcher, 1);
    manager = await startFakeManager(dirs, { launcher });
    launcher.byPid(vm?.pid as number).exit({ code: 0 });
    await expect.poll(() => manager?.service.list()[0]?.state).toBe('failed');
    expect(manager.service.list()[0]?.exit?.reason).toMatch(/re-adopted after a manager restart/);
    await expect.poll(() => manager?.service.portUsage().inUse).toBe(0);
    expect((await dirs.leftovers()).run).toEqual([]);
  });

  it('a VM that had already failed stays failed with its recorded reason', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const first = await startFakeManager(dirs, { launcher });
    const vm = await first.service.create(emptyCreateVmRequest());
    launcher.processes[0]?.exit({ code: 3 });
    await expect.poll(() => first.service.list()[0]?.state).toBe('failed');
    await first.stop({ removeVms: false });
    manager = await startFakeManager(dirs, { launcher });
    expect(manager.service.list()).toMatchObject([{ id: vm.id, state: 'failed', exit: { code: 3, reason: 'QEMU exited with code 3' } }]);
  });

  it('a create the manager never finished (record "starting", its QEMU alive) is stopped at restart, not adopted: no client knows it', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    // The first manager's create stops for good once QMP answered, as a manager killed there would.
    const first = await startFakeManager(dirs, {
      launcher,
      faults: { after: (step) => (step === 'qmp-ready' ? new Promise<void>(() => undefined) : undefined) },
    });
    void first.service.create(emptyCreateVmRequest());
    await expect.poll(() => first.service.list()[0]?.pid ?? null).not.toBeNull();
    await first.stop({ removeVms: false });
    const qemu = launcher.processes[0]!;
    expect(qemu.alive).toBe(true);

    manager = await startFakeManager(dirs, { launcher });
    expect(qemu.alive).toBe(false);
    expect(qemu.signals).toEqual(['SIGTERM']);
    expect(manager.service.list()).toMatchObject([
      { state: 'failed', adopted: true, exit: { reason: `the manager stopped while creating the VM; its QEMU (pid ${qemu.pid}) was stopped` } },
    ]);
    expect((await dirs.leftovers()).run).toEqual([]);
    expect(manager.service.portUsage().inUse).toBe(0);
  });
});
