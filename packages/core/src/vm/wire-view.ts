import { GPU_DEVICE } from '../api/vm-device.js';
import type { VmSummary } from '../api/vm-types.js';

/**
 * A VM as the APIs show it, under the gRPC VmInfo field names: the gRPC
 * transport sends it as the message, the REST mirror as JSON.
 */
export function vmWireView(vm: VmSummary) {
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
    // The host PCI addresses of the VM's passed-through GPUs.
    gpus: (vm.devices ?? []).filter((d) => d.device === GPU_DEVICE).map((d) => d.values['bdf'] ?? ''),
    state_write_error: vm.stateWriteError ?? '',
  };
}
