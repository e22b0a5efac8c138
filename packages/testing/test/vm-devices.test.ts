import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import {
  definePlugin,
  Device,
  emptyCreateVmRequest,
  ManagerError,
  PROCESS_LAUNCHER,
  QemuSection,
  VM_DEVICE,
  type DeviceAssignment,
  type QemuCommand,
  type VmContext,
  type VmDevice,
} from '@cocos-manager/core';
import { Manager, PORT_ALLOCATOR, PortAllocator } from '@cocos-manager/core/internal';
import { createInertBackendPlugin } from '../src/inert-backend.js';
import { FakeLauncher } from '../src/fake-launcher.js';
import { testDirs, type TestDirs } from './fake-manager.js';

/** A stub device that records what core asked of it; `exhausted` makes acquire refuse. */
class StubDevice implements VmDevice {
  readonly calls: string[] = [];
  exhausted = false;
  constructor(readonly name: string) {}
  async validate(): Promise<void> {
    this.calls.push('validate');
  }
  async acquire(vm: VmContext): Promise<DeviceAssignment | null> {
    if (this.exhausted) throw new ManagerError('VM_CAPACITY_REACHED', `no ${this.name} left`);
    this.calls.push(`acquire ${vm.id}`);
    return { device: this.name, values: { slot: '1' } };
  }
  preview(): DeviceAssignment | null {
    return { device: this.name, values: { slot: 'preview' } };
  }
  contribute(command: QemuCommand, _vm: VmContext, a: DeviceAssignment): void {
    command.add(new Device(`stub-${this.name}`, [['slot', a.values['slot'] ?? '']], QemuSection.Devices));
  }
  release(vm: VmContext): void {
    this.calls.push(`release ${vm.id}`);
  }
  reclaim(vm: VmContext): void {
    this.calls.push(`reclaim ${vm.id}`);
  }
}

let dirs: TestDirs;
let manager: Manager | null = null;
afterEach(async () => {
  await manager?.stop({ removeVms: true });
  manager = null;
  dirs?.remove();
});

async function start(launcher: FakeLauncher, devices: StubDevice[]) {
  const plugin = definePlugin({
    name: 'stub-devices',
    version: '0.0.0',
    coreVersionRange: '^0.1.0',
    provides: [VM_DEVICE],
    register(container) {
      for (const device of devices) container.register(VM_DEVICE, { useValue: device });
    },
  });
  const m = Manager.create({
    plugins: [createInertBackendPlugin(), plugin],
    env: {
      MANAGER_RUN_DIR: dirs.run,
      MANAGER_STATE_DIR: dirs.state,
      COCOS_JAEGER_TRACE_RATIO: '0',
      MANAGER_QEMU_ENABLE_KVM: 'false',
      MANAGER_VM_START_TIMEOUT: '2s',
      ...dirs.env,
    },
    overrides: [
      { token: PROCESS_LAUNCHER, useValue: launcher },
      { token: PORT_ALLOCATOR, useValue: new PortAllocator({ first: 7100, last: 7109 }, async () => true) },
    ],
    logger: pino({ level: 'silent' }),
  });
  await m.start();
  return m;
}

describe('the VM device seam (fake launcher)', () => {
  it('validates at start, contributes elements in the Devices section, releases once on removal', async () => {
    dirs = testDirs();
    const a = new StubDevice('a');
    const launcher = new FakeLauncher();
    manager = await start(launcher, [a]);
    expect(a.calls).toEqual(['validate']);
    expect(await manager.previewQemuArgv()).toContain('stub-a,slot=preview');
    const vm = await manager.service.create(emptyCreateVmRequest());
    expect(launcher.processes[0]!.argv).toContain('stub-a,slot=1');
    expect((await manager.service.get(vm.id)).devices).toEqual([{ device: 'a', values: { slot: '1' } }]);
    await Promise.all([manager.service.remove(vm.id), manager.service.remove(vm.id)]);
    expect(a.calls).toEqual(['validate', `acquire ${vm.id}`, `release ${vm.id}`]);
  });

  it('a device that refuses rolls the create back: earlier devices released, nothing left behind', async () => {
    dirs = testDirs();
    const a = new StubDevice('a');
    const b = new StubDevice('b');
    b.exhausted = true;
    const launcher = new FakeLauncher();
    manager = await start(launcher, [a, b]);
    const err = await manager.service.create(emptyCreateVmRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManagerError);
    expect((err as ManagerError).code).toBe('RESOURCE_EXHAUSTED');
    expect((err as ManagerError).message).toBe('no b left');
    const id = a.calls[1]!.split(' ')[1]!;
    expect(a.calls).toEqual(['validate', `acquire ${id}`, `release ${id}`]);
    expect(launcher.processes).toHaveLength(0);
    expect(manager.service.list()).toEqual([]);
    expect(manager.service.portUsage().inUse).toBe(0);
    expect(await dirs.leftovers()).toEqual({ run: [], state: [] });
  });

  it('a restart reclaims the devices of a VM that still runs and releases those of one that died', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const first = await start(launcher, [new StubDevice('a')]);
    const alive = await first.service.create(emptyCreateVmRequest());
    const dead = await first.service.create(emptyCreateVmRequest());
    await first.stop({ removeVms: false });
    launcher.processes[1]!.exit({ signal: 'SIGKILL' });

    const a = new StubDevice('a');
    manager = await start(launcher, [a]);
    expect(a.calls.sort()).toEqual(['validate', `reclaim ${alive.id}`, `release ${dead.id}`].sort());
    expect((await manager.service.get(alive.id)).devices).toEqual([{ device: 'a', values: { slot: '1' } }]);
    expect((await manager.service.get(dead.id)).devices).toEqual([]);
  });
});
