import type { DeviceAssignment } from './device-assignment.js';

/** JSON Schema (2020-12, OpenAPI 3.1's dialect) of one field, for the HTTP API's OpenAPI document. */
export type WireFieldSchema = Readonly<Record<string, unknown>>;

/** Fields a device adds to a view the APIs send, by wire name (JSON values). */
export type WireFields = Readonly<Record<string, unknown>>;

/** A device's pool now: what it hands out and what VMs hold, by the resources' host ids. */
export interface DevicePoolStatus {
  /** The device's `name`. */
  readonly device: string;
  /** Every resource it is configured to hand out (a PCI address…), in configured order. */
  readonly resources: readonly string[];
  /** The resources VMs hold now (a re-adopted VM may hold one the settings no longer list). */
  readonly inUse: readonly string[];
  /** How many of `resources` no VM holds. */
  readonly free: number;
}

/**
 * How a device shows in what the APIs send. Core and the transports name no
 * device: the fields, their wire names and their schemas are the device's.
 * Field names must not be core's own (those win); a VM field is sent over
 * gRPC only when VmInfo has a field of that name, with that name.
 */
export interface DeviceWire {
  /**
   * Its fields of a VM as GetVm/ListVms (and the REST mirror) show it, from
   * the VM's assignments of this device: an empty list when the VM holds
   * none of it, and the fields are still sent.
   */
  vmFields(assignments: readonly DeviceAssignment[]): WireFields;
  /** Its fields of the host status (the HTTP API's GET /host), from its pool status. */
  hostFields(status: DevicePoolStatus): WireFields;
  /** The JSON Schema of each field above, by name, in the order the fields are listed. */
  readonly schemas: { readonly vm: Readonly<Record<string, WireFieldSchema>>; readonly host: Readonly<Record<string, WireFieldSchema>> };
}
