import type { QemuCommand } from '../qemu/command.js';
import type { VmContext } from './vm-context.js';
import type { DeviceAssignment } from './device-assignment.js';
import type { DevicePoolStatus, DeviceWire } from './device-wire.js';

export type { DeviceAssignment } from './device-assignment.js';
export type { DevicePoolStatus, DeviceWire, WireFields, WireFieldSchema } from './device-wire.js';

/**
 * A per-VM host resource and the QEMU elements that hand it to the guest
 * (a passed-through PCI device, a NIC's virtual function, …), contributed by a
 * plugin through the VM_DEVICE multi token. Core drives it through a VM's
 * life: `validate` once at start (after the backend), `acquire` during each
 * create (after the boot media; a later failure rolls back with `release`),
 * `contribute` when the command is built, `release` once when the VM goes
 * away (removed, or its QEMU exited), `reclaim` when a restarted manager
 * re-adopts a VM that still runs, `running` once the VM's QEMU is up. The device owns its pool; core only keeps
 * the assignment with the VM and persists it; what the APIs show of it the
 * device describes itself (`wire`, `status`).
 */
export interface VmDevice {
  /** Stable name, the `device` of its assignments. Letters, digits, `.`, `_`, `-`. */
  readonly name: string;
  /**
   * Start-time host checks (the configured resources exist and are usable);
   * throws a ConfigError with one line naming the setting, the value and what
   * was found. A device with nothing configured passes.
   */
  validate(): Promise<void>;
  /**
   * Reserves this device's resources for `vm`: the assignment, or null when
   * the device gives VMs nothing (not configured). Throws
   * ManagerError.resourceExhausted when every resource is taken. Must not
   * hand one resource to two VMs, also under concurrent creates.
   */
  acquire(vm: VmContext): Promise<DeviceAssignment | null>;
  /**
   * What `acquire` would give a VM now, reserving nothing and touching no
   * host file: `cocos-manager qemu-args` shows it on any host.
   */
  preview(vm: VmContext): DeviceAssignment | null;
  /** Adds the QEMU elements that give `vm` its assignment. */
  contribute(command: QemuCommand, vm: VmContext, assignment: DeviceAssignment): void;
  /**
   * Frees the assignment. Core calls it once per VM, but it must be harmless
   * for an assignment this device does not hold (a VM found dead after a
   * restart releases what it recorded).
   */
  release(vm: VmContext, assignment: DeviceAssignment): void | Promise<void>;
  /**
   * A restarted manager re-adopted `vm`, which still runs with `assignment`
   * (read back from its state record): mark it as taken again so no new VM
   * gets it.
   */
  reclaim(vm: VmContext, assignment: DeviceAssignment): void;
  /**
   * `vm` runs with `assignment`: its QEMU is up (a create reached Running, or
   * a restarted manager re-adopted it). What talks to the VM while it runs
   * (an agent channel's connection) starts here and ends in `release`. Quick
   * and synchronous; what it throws is logged, the VM runs on.
   */
  running?(vm: VmContext, assignment: DeviceAssignment): void;
  /** Its fields of a VM's view and of the host status, with their schemas (absent: the APIs show nothing of it). */
  readonly wire?: DeviceWire;
  /** Its pool now (absent: it has none to show). Cheap and synchronous: the status page asks it on every read. */
  status?(): DevicePoolStatus;
}
