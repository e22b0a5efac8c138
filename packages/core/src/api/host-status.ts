import type { DevicePoolStatus } from './device-wire.js';
import type { ProbeResult } from './host.js';

/**
 * What this host runs VMs with and how full it is: what a status page shows,
 * without reaching into the kernel (VmApi.hostStatus).
 */
export interface HostStatus {
  /** The TEE backend serving VMs, and its host probe from when the manager started. */
  readonly backend: { readonly name: string; readonly probe: ProbeResult };
  /** The boot strategy configuration selects (`ram`, `disk`, …). */
  readonly boot: string;
  /** Whether VMs run under KVM (MANAGER_QEMU_ENABLE_KVM). */
  readonly kvm: boolean;
  /** VMs against MANAGER_MAX_VMS. */
  readonly vmSlots: { readonly used: number; readonly size: number };
  /** Host ports of MANAGER_QEMU_HOST_FWD_RANGE held by VMs, and the range's size. */
  readonly ports: { readonly inUse: number; readonly size: number };
  /** The pool of every VM device that reports one, in registration order. */
  readonly devices: readonly DevicePoolStatus[];
}
