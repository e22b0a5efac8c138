import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { pidsWithArg, REPO, startManager, type CreatedVm, type RunningManager, type WireVm } from './harness.js';

const VMS = 100;
const RANGE = '6900-6999';
/** The real QEMU with the manager's argv, started paused: a hundred of them fit on 2 cores (see the script). */
const STAND_IN = path.join(REPO, 'tools/stand-in/qemu-paused');
const env = {
  MANAGER_QEMU_BIN_PATH: STAND_IN,
  MANAGER_MAX_VMS: String(VMS),
  MANAGER_QEMU_MEMORY_SIZE: '64M',
  // A hundred VMs' debug lines would only cost time here.
  MANAGER_LOG_LEVEL: 'info',
};

const managers: RunningManager[] = [];
afterAll(async () => {
  for (const m of managers.reverse()) await m.dispose();
});

async function listVms(m: RunningManager): Promise<WireVm[]> {
  return (await m.call<{ vms: WireVm[] }>('ListVms', {})).vms;
}

/** Runs `task` over `items`, `width` at a time (as many clients would). */
async function inWaves<T, R>(items: readonly T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) results.push(...(await Promise.all(items.slice(i, i + width).map(task))));
  return results;
}

const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;
const vmEntries = (dir: string) => readdirSync(dir).filter((e) => /^[0-9a-f-]{36}(\.json)?$/.test(e));

describe('a hundred VMs is a normal day (paused-QEMU stand-in)', () => {
  it('creates, lists, re-adopts after kill -9, and removes 100 VMs; nothing leaks', async () => {
    const first = await startManager(RANGE, env);
    managers.push(first);
    const fdsIdle = openFds(first.pid);

    const created = await inWaves([...Array(VMS).keys()], 10, () => first.call<CreatedVm>('CreateVm', {}));
    const ids = created.map((c) => c.cvm_id);
    expect(new Set(ids).size).toBe(VMS);
    expect(new Set(created.map((c) => c.forwarded_port)).size).toBe(VMS);

    const listed = await listVms(first);
    expect(listed).toHaveLength(VMS);
    expect(listed.every((vm) => vm.state === 'running' && vm.pid > 0 && !vm.adopted)).toBe(true);
    const pids = new Map(listed.map((vm) => [vm.id, vm.pid]));
    expect(pidsWithArg(first.runDir)).toHaveLength(VMS);

    // The 101st is refused, and leaves nothing behind.
    const over = await first.call('CreateVm', {}).catch((err: ServiceError) => err);
    expect((over as ServiceError).code).toBe(status.RESOURCE_EXHAUSTED);
    expect(vmEntries(first.runDir)).toHaveLength(VMS);

    // A crash of the manager: the next one re-adopts every VM, same pids, and serves.
    await first.kill9();
    const second = await startManager(RANGE, env, first.base);
    managers.push(second);
    const readopted = await listVms(second);
    expect(readopted).toHaveLength(VMS);
    for (const vm of readopted) {
      expect(vm).toMatchObject({ state: 'running', adopted: true });
      expect(vm.pid).toBe(pids.get(vm.id));
    }

    await inWaves(ids, 20, (id) => second.call('RemoveVm', { cvm_id: id }));
    expect(await listVms(second)).toEqual([]);
    expect(pidsWithArg(second.runDir)).toEqual([]);
    expect(vmEntries(second.runDir)).toEqual([]);
    expect(vmEntries(second.stateDir)).toEqual([]);
    expect(existsSync(path.join(second.runDir, ids[0]!))).toBe(false);
    // Every port is free again: a full set of VMs can be made once more (one is enough to show the pool was not drained).
    const again = await second.call<CreatedVm>('CreateVm', {});
    await second.call('RemoveVm', { cvm_id: again.cvm_id });
    // The manager holds no descriptor of a removed VM (QMP sockets, console watches, logs).
    expect(openFds(second.pid)).toBeLessThanOrEqual(fdsIdle + 5);
  }, 300_000);
});
