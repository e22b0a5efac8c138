import type { VmState, VmSummary } from './vm-types.js';
import type { WireFields, WireFieldSchema } from './device-wire.js';
import type { HostStatus } from './host-status.js';

/** A VM as the APIs show it: its own fields under the gRPC VmInfo names, the devices' fields, then `state_write_error`. */
export interface VmWireView extends WireFields {
  readonly id: string;
  readonly state: VmState;
  readonly forwarded_port: string;
  readonly pid: number;
  readonly backend: string;
  readonly boot: string;
  readonly created_at: string;
  readonly ttl_deadline: string;
  readonly exit: { readonly code: number; readonly signal: string; readonly reason: string } | null;
  readonly guest_status: string;
  readonly adopted: boolean;
  readonly state_write_error: string;
}

/**
 * The views the APIs send, with the fields the VM devices add to them (the
 * WIRE_VIEWS token, core's): the transports render them and name no device.
 */
export interface WireViews {
  /** A VM under the gRPC VmInfo field names (the REST mirror's JSON keys), with every device's fields. */
  vm(vm: VmSummary): VmWireView;
  /** The devices' fields of the host status (the HTTP API's GET /host), in device order. */
  hostFields(status: HostStatus): WireFields;
  /** The JSON Schemas of the devices' fields of a VM and of the host status, by name, in the order they are sent. */
  readonly schemas: { readonly vm: Readonly<Record<string, WireFieldSchema>>; readonly host: Readonly<Record<string, WireFieldSchema>> };
}
