import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VM_DEVICE, type DeviceAssignment, type VmContext, type VmDevice } from '@cocos-manager/core';
import { request, startHttpManager, type HttpManager } from './harness.js';

/** A VM device of its own kind: two "virtual functions" handed out one per VM, shown as it describes them. */
class FakeVfDevice implements VmDevice {
  readonly name = 'vf';
  private readonly held = new Map<string, string>();
  readonly wire = {
    vmFields: (assigned: readonly DeviceAssignment[]) => ({ vfs: assigned.map((a) => a.values['vf']) }),
    hostFields: (pool: { inUse: readonly string[]; resources: readonly string[] }) => ({ vfs_in_use: pool.inUse, vf_pool: pool.resources }),
    schemas: {
      vm: { vfs: { type: 'array', items: { type: 'string' }, description: 'the VFs of the VM' } },
      host: { vfs_in_use: { type: 'array' }, vf_pool: { type: 'array' } },
    },
  };
  async validate() {}
  async acquire(vm: VmContext): Promise<DeviceAssignment> {
    const vf = ['vf0', 'vf1'].find((v) => !this.held.has(v)) ?? 'none';
    this.held.set(vf, vm.id);
    return { device: this.name, values: { vf } };
  }
  preview(): null {
    return null;
  }
  contribute() {}
  release(_vm: VmContext, a: DeviceAssignment) {
    this.held.delete(a.values['vf'] ?? '');
  }
  reclaim() {}
  status() {
    return { device: this.name, resources: ['vf0', 'vf1'], inUse: [...this.held.keys()], free: 2 - this.held.size };
  }
}

const json = async (m: HttpManager, path: string, method = 'GET') => {
  const res = await request(m.port, {
    path,
    method,
    headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
    body: method === 'POST' ? '{}' : undefined,
  });
  return JSON.parse(res.body) as Record<string, unknown>;
};

describe("a VM device's own fields over HTTP (the transport names no device)", () => {
  let m: HttpManager;
  beforeAll(async () => {
    m = await startHttpManager({ MANAGER_HTTP_REST_WRITES: 'true' }, [{ token: VM_DEVICE, useValue: new FakeVfDevice() }]);
  });
  afterAll(() => m?.stop());

  it('GET /vms/:id and GET /vms show its VM fields, before state_write_error', async () => {
    const created = await json(m, '/vms', 'POST');
    const vm = await json(m, `/vms/${String(created['cvm_id'])}`);
    expect(vm['vfs']).toEqual(['vf0']);
    expect(Object.keys(vm).slice(-2)).toEqual(['vfs', 'state_write_error']);
    expect(((await json(m, '/vms'))['vms'] as Array<Record<string, unknown>>).map((v) => v['vfs'])).toEqual([['vf0']]);
  });

  it('GET /host shows its pool status as its host fields, before rest_writes', async () => {
    const host = await json(m, '/host');
    expect(host).toMatchObject({ vfs_in_use: ['vf0'], vf_pool: ['vf0', 'vf1'] });
    expect(Object.keys(host).slice(-3)).toEqual(['vfs_in_use', 'vf_pool', 'rest_writes']);
  });

  it('/openapi.json describes its fields where they are sent, and requires them', async () => {
    const doc = await json(m, '/openapi.json');
    const schemas = (doc['components'] as { schemas: Record<string, { properties: Record<string, unknown>; required: string[] }> }).schemas;
    expect(schemas['Vm']!.properties['vfs']).toEqual({ type: 'array', items: { type: 'string' }, description: 'the VFs of the VM' });
    expect(schemas['Vm']!.required.slice(-2)).toEqual(['vfs', 'state_write_error']);
    expect(schemas['Host']!.required.slice(-3)).toEqual(['vfs_in_use', 'vf_pool', 'rest_writes']);
  });
});
