import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { emptyCreateVmRequest, stopProcess, type Manager } from '@cocos-manager/core';
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
    expect(qemu.qmpCommands).toEqual(['system_powerdown']);
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
});
