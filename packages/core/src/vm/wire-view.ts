import type { HostStatus } from '../api/host-status.js';
import type { DeviceAssignment, VmDevice, WireFields, WireFieldSchema } from '../api/vm-device.js';
import type { VmWireView, WireViews } from '../api/wire-views.js';
import { ConfigError } from '../config/manager-config.js';
import type { VmSummary } from '../api/vm-types.js';

/** A VM's own fields, under the gRPC VmInfo field names, in VmInfo's order. */
function ownFields(vm: VmSummary) {
  return {
    id: vm.id,
    state: vm.state,
    forwarded_port: String(vm.forwardedPort),
    pid: vm.pid ?? 0,
    backend: vm.backend,
    boot: vm.boot,
    created_at: vm.createdAt,
    ttl_deadline: vm.ttlDeadline ?? '',
    exit: vm.exit ? { code: vm.exit.code ?? -1, signal: vm.exit.signal ?? '', reason: vm.exit.reason } : null,
    guest_status: vm.guestStatus ?? '',
    adopted: vm.adopted,
  };
}

/** The names of a VM's own wire fields (those of `vmWireView` without a device): no device may add one. */
export const VM_WIRE_FIELDS: readonly string[] = [
  'id',
  'state',
  'forwarded_port',
  'pid',
  'backend',
  'boot',
  'created_at',
  'ttl_deadline',
  'exit',
  'guest_status',
  'adopted',
  'state_write_error',
];

const OWN_FIELDS: ReadonlySet<string> = new Set(VM_WIRE_FIELDS);
const NO_ASSIGNMENTS: readonly DeviceAssignment[] = [];

/**
 * A VM as the APIs show it, under the gRPC VmInfo field names: the gRPC
 * transport sends it as the message, the REST mirror as JSON. Each device
 * with a `wire` adds its fields (from the VM's assignments of that device),
 * after the VM's own and before `state_write_error`, as VmInfo numbers them.
 * Built in one object, without spreads or entry lists: a ListVms of 1,000
 * VMs builds 1,000 of these (spreads were a millisecond of it).
 */
export function vmWireView(vm: VmSummary, devices: readonly VmDevice[]): VmWireView {
  const view: Record<string, unknown> = ownFields(vm);
  for (const device of devices) {
    if (!device.wire) continue;
    const held = vm.devices && vm.devices.length > 0 ? vm.devices.filter((a) => a.device === device.name) : NO_ASSIGNMENTS;
    const added = device.wire.vmFields(held);
    for (const name in added) if (!OWN_FIELDS.has(name) && Object.hasOwn(added, name)) view[name] = added[name];
  }
  view['state_write_error'] = vm.stateWriteError ?? '';
  return view as unknown as VmWireView;
}

/** Every device's schemas of one view, checked: no field of `reserved`, none added by two devices. */
function mergedSchemas(devices: readonly VmDevice[], view: 'vm' | 'host', reserved: readonly string[]): Record<string, WireFieldSchema> {
  const merged: Record<string, WireFieldSchema> = {};
  const owner = new Map<string, string>();
  for (const device of devices) {
    for (const [name, schema] of Object.entries(device.wire?.schemas[view] ?? {})) {
      if (reserved.includes(name)) throw new ConfigError(`the "${device.name}" device adds the ${view} field "${name}", which is core's own`);
      const other = owner.get(name);
      if (other !== undefined) throw new ConfigError(`the "${other}" and "${device.name}" devices both add the ${view} field "${name}"`);
      owner.set(name, device.name);
      merged[name] = schema;
    }
  }
  return merged;
}

/** The WIRE_VIEWS of a manager: its VM devices' fields in the views the APIs send. */
export class DeviceWireViews implements WireViews {
  readonly schemas: WireViews['schemas'];

  constructor(private readonly devices: readonly VmDevice[]) {
    this.schemas = { vm: mergedSchemas(devices, 'vm', VM_WIRE_FIELDS), host: mergedSchemas(devices, 'host', []) };
  }

  vm(vm: VmSummary): VmWireView {
    return vmWireView(vm, this.devices);
  }

  hostFields(status: HostStatus): WireFields {
    const fields: Record<string, unknown> = {};
    for (const device of this.devices) {
      const pool = status.devices.find((p) => p.device === device.name);
      if (device.wire && pool) Object.assign(fields, device.wire.hostFields(pool));
    }
    return fields;
  }
}
