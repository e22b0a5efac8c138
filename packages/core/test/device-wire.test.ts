import { describe, expect, it } from 'vitest';
import { ConfigError, DeviceWireViews, VM_WIRE_FIELDS, vmWireView, type DeviceWire, type HostStatus, type VmDevice, type VmSummary } from '../src/index.js';

const ID = '11111111-2222-3333-4444-555555555555';
const vm = {
  id: ID,
  state: 'running',
  forwardedPort: 6100,
  pid: 1,
  backend: 'x',
  boot: 'ram',
  createdAt: '',
  ttlDeadline: null,
  exit: null,
  guestStatus: null,
  adopted: false,
  stateWriteError: 'STATE_DISK_FULL: …',
} satisfies VmSummary;

/** A device with nothing but a name and, optionally, wire hooks (the lifecycle's methods are not called here). */
const device = (name: string, wire?: DeviceWire): VmDevice =>
  ({
    name,
    wire,
    validate: async () => undefined,
    acquire: async () => null,
    preview: () => null,
    contribute: () => undefined,
    release: () => undefined,
    reclaim: () => undefined,
  }) as VmDevice;

/** A NIC-like device: its VM field lists the VFs it gave the VM, its host fields its pool. */
const nicWire: DeviceWire = {
  vmFields: (held) => ({ vfs: held.map((a) => a.values['vf'] ?? '') }),
  hostFields: (pool) => ({ vfs_in_use: pool.inUse, vf_pool: pool.resources }),
  schemas: { vm: { vfs: { type: 'array' } }, host: { vfs_in_use: { type: 'array' }, vf_pool: { type: 'array' } } },
};
const nic = device('nic', nicWire);

describe('the wire view of a VM', () => {
  it('without devices: its own fields, in VmInfo order', () => {
    const view = vmWireView(vm, []);
    expect(Object.keys(view)).toEqual(VM_WIRE_FIELDS);
    expect(view).toMatchObject({
      id: ID,
      forwarded_port: '6100',
      pid: 1,
      ttl_deadline: '',
      exit: null,
      guest_status: '',
      state_write_error: 'STATE_DISK_FULL: …',
    });
  });

  it("adds each device's fields from its own assignments only, before state_write_error", () => {
    const held = {
      ...vm,
      devices: [
        { device: 'nic', values: { vf: '3' } },
        { device: 'other', values: { vf: '9' } },
      ],
    };
    const view = vmWireView(held, [nic, device('other')]);
    expect(view['vfs']).toEqual(['3']);
    expect(Object.keys(view).slice(-2)).toEqual(['vfs', 'state_write_error']);
    // A VM holding none of it still gets the field (gRPC and REST send the same fields for every VM).
    expect(vmWireView(vm, [nic])['vfs']).toEqual([]);
  });

  it("never lets a device overwrite the VM's own fields", () => {
    const sneaky = device('sneaky', { ...nicWire, vmFields: () => ({ id: 'forged', state_write_error: '', extra: 1 }) });
    expect(vmWireView(vm, [sneaky])).toMatchObject({ id: ID, state_write_error: 'STATE_DISK_FULL: …', extra: 1 });
  });
});

describe('DeviceWireViews (WIRE_VIEWS)', () => {
  const status = (devices: HostStatus['devices']): HostStatus => ({
    backend: { name: 'x', probe: { available: true, reason: '' } },
    boot: 'ram',
    kvm: false,
    vmSlots: { used: 0, size: 1 },
    ports: { inUse: 0, size: 1 },
    devices,
  });

  it("gives the devices' schemas, VM views and host fields from each device's own pool", () => {
    const views = new DeviceWireViews([device('bare'), nic]);
    expect(views.schemas).toEqual({ vm: { vfs: { type: 'array' } }, host: { vfs_in_use: { type: 'array' }, vf_pool: { type: 'array' } } });
    expect(views.vm({ ...vm, devices: [{ device: 'nic', values: { vf: '1' } }] })['vfs']).toEqual(['1']);
    const pools = [
      { device: 'bare', resources: ['a'], inUse: ['a'], free: 0 },
      { device: 'nic', resources: ['1', '2'], inUse: ['1'], free: 1 },
    ];
    expect(views.hostFields(status(pools))).toEqual({ vfs_in_use: ['1'], vf_pool: ['1', '2'] });
    // A device that reports no pool adds no host field.
    expect(views.hostFields(status([]))).toEqual({});
  });

  it("refuses a device field that is core's own or another device's", () => {
    expect(() => new DeviceWireViews([device('bad', { ...nicWire, schemas: { vm: { pid: {} }, host: {} } })])).toThrow(
      new ConfigError('the "bad" device adds the vm field "pid", which is core\'s own'),
    );
    expect(() => new DeviceWireViews([nic, device('twin', nicWire)])).toThrow(new ConfigError('the "nic" and "twin" devices both add the vm field "vfs"'));
  });
});
