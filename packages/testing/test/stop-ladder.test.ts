import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { emptyCreateVmRequest } from '@cocos-manager/core';
import { stopProcess, type Manager } from '@cocos-manager/core/internal';
import { FakeLauncher } from '../src/fake-launcher.js';
import { FakeQemu, FakeQmp, type FakeQemuScript } from '../src/fake-qemu.js';
import { startFakeManager, testDirs, type TestDirs } from './fake-manager.js';

const silent = pino({ level: 'silent' });

function fakeQemu(script: FakeQemuScript) {
  const qemu = new FakeQemu(1, '100', ['qemu'], 'cvm-test', '/dev/null', '/nonexistent', script);
  return { qemu, qmp: new FakeQmp(qemu) };
}

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

describe('stop ladder', () => {
  it('a guest that powers off: no signal at all', async () => {
    const { qemu, qmp } = fakeQemu({});
    const ms = await timed(() => stopProcess(qemu, qmp, { powerdownMs: 1000, stopMs: 1000 }, silent));
    // Nothing recorded about the guest: QEMU is asked whether its NIC is configured, then the power-down.
    expect(qemu.qmpCommands).toEqual(['query-rx-filter', 'system_powerdown']);
    expect(qemu.signals).toEqual([]);
    expect(ms).toBeLessThan(500);
  });

  it('a guest that ignores the power-down: SIGTERM once the power-down timeout passed', async () => {
    const { qemu, qmp } = fakeQemu({ onPowerdown: 'ignore' });
    const ms = await timed(() => stopProcess(qemu, qmp, { powerdownMs: 200, stopMs: 1000 }, silent));
    expect(qemu.signals).toEqual(['SIGTERM']);
    expect(ms).toBeGreaterThanOrEqual(195);
    expect(ms).toBeLessThan(700);
  });

  it('a QEMU that ignores SIGTERM: SIGKILL once the stop timeout passed', async () => {
    const { qemu, qmp } = fakeQemu({ onPowerdown: 'ignore', onSigterm: 'ignore' });
    const ms = await timed(() => stopProcess(qemu, qmp, { powerdownMs: 150, stopMs: 150 }, silent));
    expect(qemu.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(ms).toBeGreaterThanOrEqual(295);
    expect(ms).toBeLessThan(900);
    expect(qemu.alive).toBe(false);
  });

  it('a guest still booting (NIC not configured): SIGTERM at once, no power-down to wait out', async () => {
    const { qemu, qmp } = fakeQemu({ guest: 'booting' });
    const ms = await timed(() => stopProcess(qemu, qmp, { powerdownMs: 10_000, stopMs: 1000 }, silent));
    expect(qemu.qmpCommands).toEqual(['query-rx-filter']);
    expect(qemu.signals).toEqual(['SIGTERM']);
    expect(ms).toBeLessThan(500);
  });

  it('a guest that showed life: power-down first, without asking QEMU again', async () => {
    const { qemu, qmp } = fakeQemu({});
    await stopProcess(qemu, qmp, { powerdownMs: 1000, stopMs: 1000 }, silent, { guestAlive: true, guestStatus: 'running' });
    expect(qemu.qmpCommands).toEqual(['system_powerdown']);
    expect(qemu.signals).toEqual([]);
  });

  it('a guest QEMU reports paused: SIGTERM at once, whatever life it showed', async () => {
    const { qemu, qmp } = fakeQemu({});
    const ms = await timed(() => stopProcess(qemu, qmp, { powerdownMs: 10_000, stopMs: 1000 }, silent, { guestAlive: true, guestStatus: 'paused' }));
    expect(qemu.qmpCommands).toEqual([]);
    expect(qemu.signals).toEqual(['SIGTERM']);
    expect(ms).toBeLessThan(500);
  });

  it('a guest that panics on the power-down: SIGTERM as soon as QEMU reports it, not at the timeout', async () => {
    const { qemu, qmp } = fakeQemu({ onPowerdown: 'panic' });
    const ms = await timed(() => stopProcess(qemu, qmp, { powerdownMs: 10_000, stopMs: 1000 }, silent, { guestAlive: true, guestStatus: 'running' }));
    expect(qemu.qmpCommands).toEqual(['system_powerdown']);
    expect(qemu.signals).toEqual(['SIGTERM']);
    expect(ms).toBeLessThan(500);
  });

  it('no QMP (or power-down disabled): straight to SIGTERM', async () => {
    const { qemu } = fakeQemu({});
    await stopProcess(qemu, null, { powerdownMs: 1000, stopMs: 1000 }, silent);
    expect(qemu.signals).toEqual(['SIGTERM']);
    const other = fakeQemu({});
    await stopProcess(other.qemu, other.qmp, { powerdownMs: 0, stopMs: 1000 }, silent);
    expect(other.qemu.qmpCommands).toEqual([]);
    expect(other.qemu.signals).toEqual(['SIGTERM']);
  });
});

describe('RemoveVm through the ladder (fake launcher)', () => {
  let dirs: TestDirs;
  let manager: Manager | null = null;
  afterEach(async () => {
    await manager?.stop({ removeVms: true });
    manager = null;
    dirs?.remove();
  });

  it('escalates to SIGKILL on a stubborn QEMU, then forgets the VM: stopping → stopped', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher().script({ onPowerdown: 'ignore', onSigterm: 'ignore' });
    manager = await startFakeManager(dirs, { launcher, env: { MANAGER_VM_POWERDOWN_TIMEOUT: '100ms', MANAGER_VM_STOP_TIMEOUT: '100ms' } });
    const states: string[] = [];
    manager.service.onEvent((e) => states.push(e.state));
    const vm = await manager.service.create(emptyCreateVmRequest());
    await manager.service.remove(vm.id);
    expect(launcher.processes[0]?.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(states.slice(-2)).toEqual(['stopping', 'stopped']);
    expect(manager.service.list()).toEqual([]);
    expect(await dirs.leftovers()).toEqual({ run: [], state: [] });
    expect(manager.service.portUsage().inUse).toBe(0);
  });

  it('a booting guest is removed at once; once it configured its NIC, it is powered down', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher({ guest: 'booting' });
    manager = await startFakeManager(dirs, { launcher, env: { MANAGER_VM_POWERDOWN_TIMEOUT: '10s' } });
    const booting = await manager.service.create(emptyCreateVmRequest());
    const ms = await timed(() => manager!.service.remove(booting.id));
    expect(ms).toBeLessThan(1000);
    expect(launcher.processes[0]?.qmpCommands).not.toContain('system_powerdown');
    expect(launcher.processes[0]?.signals).toEqual(['SIGTERM']);

    const booted = await manager.service.create(emptyCreateVmRequest());
    const qemu = launcher.processes[1];
    qemu?.bootGuest(); // QMP NIC_RX_FILTER_CHANGED: recorded, so the stop ladder need not ask
    await manager.service.remove(booted.id);
    expect(qemu?.qmpCommands.filter((c) => c !== 'query-status')).toEqual(['system_powerdown']);
    expect(qemu?.signals).toEqual([]);
    expect(manager.service.list()).toEqual([]);
  });
});
