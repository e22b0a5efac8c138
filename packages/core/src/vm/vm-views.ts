import { DEFAULT_OVMF_VERSION } from '../api/firmware-version.js';
import { VmState, type CvmInfo } from '../api/vm-types.js';
import type { VmInstance } from './vm-instance.js';
import type { VmRuntime } from './vm-runtime.js';

/** CVMInfo of a VM: the configuration it was launched with; the firmware version the operator's, else its backend's. */
export function cvmInfoOf(vm: VmInstance, settings: VmRuntime['settings']): CvmInfo {
  const { qemu, manager } = settings;
  return {
    id: vm.id,
    ovmfVersion: qemu.ovmfVersion || vm.plan.backend.firmwareVersion?.() || DEFAULT_OVMF_VERSION,
    cpuNum: qemu.smpCount,
    cpuType: qemu.cpu,
    kernelCmd: vm.plan.context.kernelCommandLine,
    eosVersion: manager.eosVersion,
  };
}

/** Asks QEMU for the guest's run state of a running VM (GetVm); keeps the last known one when QEMU does not answer at once. */
export async function refreshGuestStatus(vm: VmInstance): Promise<void> {
  if (vm.state !== VmState.Running || !vm.qmp?.connected) return;
  try {
    vm.guestStatus = (await vm.qmp.execute<{ status: string }>('query-status', undefined, 1000)).status;
  } catch {
    // QEMU is busy or going away; report the last known status.
  }
}
