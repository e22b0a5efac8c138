import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyCreateVmRequest, ManagerError, resolveToken, WIRE_VIEWS, type VmSummary } from '@cocos-manager/core';
import { type Manager } from '@cocos-manager/core/internal';
import { FakeLauncher } from '@cocos-manager/testing';
import { gpuTestDirs, recordedHost, startGpuManager } from './gpu-manager.js';

const TWO_GPUS = { MANAGER_QEMU_GPU_BDF: '0000:41:00.0,0000:C1:00.0' };
/** A VM's `gpus` as GetVm and GET /vms/:id show it (the manager's WIRE_VIEWS, with the GPU device's fields). */
const gpusIn = (manager: Manager, vm: VmSummary) => resolveToken(manager.container, WIRE_VIEWS).vm(vm)['gpus'] as string[];
const gpuOf = async (manager: Manager, id: string) => gpusIn(manager, await manager.service.get(id));
const vfioHost = (argv: readonly string[]) => argv.filter((a) => a.startsWith('vfio-pci,')).map((a) => /host=([^,]+)/.exec(a)?.[1]);
const eventually = async (check: () => Promise<boolean> | boolean) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
};

let dirs: ReturnType<typeof gpuTestDirs>;
let manager: Manager | null = null;
afterEach(async () => {
  await manager?.stop({ removeVms: true });
  manager = null;
  dirs?.remove();
});

async function createError(m: Manager): Promise<ManagerError> {
  const err = await m.service.create(emptyCreateVmRequest()).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof ManagerError)) throw new Error(`expected a ManagerError, got ${String(err)}`);
  return err;
}

describe('the GPU pool (fake launcher, recorded /sys)', () => {
  it('two GPUs → two VMs get different BDFs, the third create is RESOURCE_EXHAUSTED, removal frees one', async () => {
    dirs = gpuTestDirs();
    const launcher = new FakeLauncher();
    manager = await startGpuManager(dirs, launcher, TWO_GPUS);
    const a = await manager.service.create(emptyCreateVmRequest());
    const b = await manager.service.create(emptyCreateVmRequest());
    expect(await gpuOf(manager, a.id)).toEqual(['0000:41:00.0']);
    expect(await gpuOf(manager, b.id)).toEqual(['0000:c1:00.0']);
    expect(vfioHost(launcher.processes[0]!.argv)).toEqual(['0000:41:00.0']);
    expect(vfioHost(launcher.processes[1]!.argv)).toEqual(['0000:c1:00.0']);
    expect(
      manager.service
        .list()
        .flatMap((vm) => gpusIn(manager!, vm))
        .sort(),
    ).toEqual(['0000:41:00.0', '0000:c1:00.0']);

    const full = await createError(manager);
    expect(full.code).toBe('RESOURCE_EXHAUSTED');
    expect(full.message).toBe('every GPU in MANAGER_QEMU_GPU_BDF (2) is passed through to a VM; remove one first');
    // The refused create rolled back: no VM, no port, no third QEMU.
    expect(manager.service.list()).toHaveLength(2);
    expect(manager.service.portUsage().inUse).toBe(2);
    expect(launcher.processes).toHaveLength(2);

    await manager.service.remove(a.id);
    const c = await manager.service.create(emptyCreateVmRequest());
    expect(await gpuOf(manager, c.id)).toEqual(['0000:41:00.0']);
  });

  it('the pool status: configured GPUs, those VMs hold, how many are free; shown on the host status as gpus_in_use and gpu_pool', async () => {
    dirs = gpuTestDirs();
    manager = await startGpuManager(dirs, new FakeLauncher(), TWO_GPUS);
    const views = resolveToken(manager.container, WIRE_VIEWS);
    const pool = async () => (await manager!.service.hostStatus()).devices;
    expect(await pool()).toEqual([{ device: 'gpu', resources: ['0000:41:00.0', '0000:c1:00.0'], inUse: [], free: 2 }]);
    const a = await manager.service.create(emptyCreateVmRequest());
    expect(await pool()).toEqual([{ device: 'gpu', resources: ['0000:41:00.0', '0000:c1:00.0'], inUse: ['0000:41:00.0'], free: 1 }]);
    expect(views.hostFields(await manager.service.hostStatus())).toEqual({ gpus_in_use: ['0000:41:00.0'], gpu_pool: ['0000:41:00.0', '0000:c1:00.0'] });
    await manager.service.remove(a.id);
    expect((await pool())[0]).toMatchObject({ inUse: [], free: 2 });
    expect(Object.keys(views.schemas.vm)).toEqual(['gpus']);
    expect(Object.keys(views.schemas.host)).toEqual(['gpus_in_use', 'gpu_pool']);
  });

  it('no GPU configured: an empty pool, and every VM shows gpus: []', async () => {
    dirs = gpuTestDirs();
    manager = await startGpuManager(dirs, new FakeLauncher(), {});
    expect((await manager.service.hostStatus()).devices).toEqual([{ device: 'gpu', resources: [], inUse: [], free: 0 }]);
    const vm = await manager.service.create(emptyCreateVmRequest());
    expect(await gpuOf(manager, vm.id)).toEqual([]);
  });

  it('a create that fails after the GPU was taken gives it back', async () => {
    dirs = gpuTestDirs();
    const launcher = new FakeLauncher().script({ spawnFails: true });
    manager = await startGpuManager(dirs, launcher, { MANAGER_QEMU_GPU_BDF: '0000:41:00.0' });
    expect((await createError(manager)).message).toMatch(/^starting QEMU failed: cannot start/);
    const vm = await manager.service.create(emptyCreateVmRequest());
    expect(await gpuOf(manager, vm.id)).toEqual(['0000:41:00.0']);
  });

  it('a crash frees its GPU', async () => {
    dirs = gpuTestDirs();
    const launcher = new FakeLauncher();
    manager = await startGpuManager(dirs, launcher, { MANAGER_QEMU_GPU_BDF: '0000:41:00.0' });
    const vm = await manager.service.create(emptyCreateVmRequest());
    expect((await createError(manager)).code).toBe('RESOURCE_EXHAUSTED');
    launcher.processes[0]!.exit({ signal: 'SIGKILL' });
    const m = manager;
    await eventually(async () => (await m.service.get(vm.id)).state === 'failed' && (await gpuOf(m, vm.id)).length === 0);
    expect(await manager.service.get(vm.id)).toMatchObject({ state: 'failed', devices: [] });
    const next = await manager.service.create(emptyCreateVmRequest());
    expect(await gpuOf(manager, next.id)).toEqual(['0000:41:00.0']);
  });

  it('no GPU configured: VMs get none and no GPU element', async () => {
    dirs = gpuTestDirs();
    const launcher = new FakeLauncher();
    manager = await startGpuManager(dirs, launcher, {});
    const vm = await manager.service.create(emptyCreateVmRequest());
    expect(await gpuOf(manager, vm.id)).toEqual([]);
    expect(launcher.processes[0]!.argv.some((a) => /vfio|pcie-root-port|fw_cfg/.test(a))).toBe(false);
  });
});

describe('GPU assignments across a manager restart (fake launcher)', () => {
  it('re-adopted VMs keep their GPUs; a VM that died meanwhile frees its own', async () => {
    dirs = gpuTestDirs();
    const launcher = new FakeLauncher();
    const first = await startGpuManager(dirs, launcher, TWO_GPUS);
    const alive = await first.service.create(emptyCreateVmRequest());
    const dead = await first.service.create(emptyCreateVmRequest());
    await first.stop({ removeVms: false });
    // The assignment is in the VM's state record.
    expect(JSON.parse(readFileSync(path.join(dirs.state, `${alive.id}.json`), 'utf8')).devices).toEqual([{ device: 'gpu', values: { bdf: '0000:41:00.0' } }]);
    launcher.processes[1]!.exit({ signal: 'SIGKILL' });

    manager = await startGpuManager(dirs, launcher, TWO_GPUS);
    expect(await manager.service.get(alive.id)).toMatchObject({ state: 'running', adopted: true });
    expect(await gpuOf(manager, alive.id)).toEqual(['0000:41:00.0']);
    expect(await manager.service.get(dead.id)).toMatchObject({ state: 'failed', devices: [] });
    // 41 is still held by the re-adopted VM; c1 (the dead VM's) is free again.
    const next = await manager.service.create(emptyCreateVmRequest());
    expect(await gpuOf(manager, next.id)).toEqual(['0000:c1:00.0']);
    expect((await createError(manager)).code).toBe('RESOURCE_EXHAUSTED');
  });
});

describe('start-up checks of MANAGER_QEMU_GPU_BDF (recorded /sys)', () => {
  it('a GPU on the nvidia driver stops start-up with one line naming the BDF and the driver', async () => {
    dirs = gpuTestDirs();
    const started = startGpuManager(dirs, new FakeLauncher(), { MANAGER_QEMU_GPU_BDF: '0000:41:00.0' }, recordedHost('gpu-on-nvidia-driver'));
    await expect(started).rejects.toThrow(
      'MANAGER_QEMU_GPU_BDF: 0000:41:00.0 is not bound to vfio-pci (found vendor 0x10de, class 0x030200, driver nvidia); bind it to vfio-pci first',
    );
  });

  it('a malformed or repeated BDF is a configuration error', async () => {
    dirs = gpuTestDirs();
    await expect(startGpuManager(dirs, new FakeLauncher(), { MANAGER_QEMU_GPU_BDF: '41:00.0' })).rejects.toThrow(
      'MANAGER_QEMU_GPU_BDF="41:00.0": expected a comma-separated list of distinct PCI addresses DDDD:BB:DD.F such as 0000:41:00.0 (empty for no GPU)',
    );
    await expect(startGpuManager(dirs, new FakeLauncher(), { MANAGER_QEMU_GPU_BDF: '0000:41:00.0,0000:41:00.0' })).rejects.toThrow(
      /expected a comma-separated list of distinct/,
    );
  });
});
