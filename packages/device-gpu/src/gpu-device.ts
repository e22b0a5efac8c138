import {
  CONFIG,
  ConfigError,
  ManagerError,
  HOST,
  inject,
  injectable,
  LOGGER,
  type DeviceAssignment,
  type DevicePoolStatus,
  type HostFiles,
  type Logger,
  type ManagerConfig,
  type QemuCommand,
  type VmContext,
  type VmDevice,
} from '@cocos-manager/core';
import { PcieRootPort, PciMmio64Window, VfioPci } from './gpu-elements.js';
import { GpuPool } from './gpu-pool.js';
import { gpuProblem } from './gpu-probe.js';
import { gpuWire } from './gpu-wire.js';
import { gpuSettings } from './settings.js';

/**
 * GPU passthrough: each VM gets one GPU of MANAGER_QEMU_GPU_BDF, on a
 * pcie-root-port of its own, with OVMF's 64-bit MMIO window widened for the
 * GPU's BARs — the Go manager's three elements. Unlike the Go manager, a GPU
 * is held by one VM at a time (the pool), until the VM goes away.
 */
/** The device's name: the `device` of its assignments in VM state records. */
export const GPU_DEVICE = 'gpu';

@injectable()
export class GpuDevice implements VmDevice {
  readonly name = GPU_DEVICE;
  readonly wire = gpuWire;
  readonly pool: GpuPool;

  constructor(
    @inject(CONFIG) private readonly config: ManagerConfig,
    @inject(HOST) private readonly host: HostFiles,
    @inject(LOGGER) private readonly logger: Logger,
  ) {
    this.pool = new GpuPool(this.settings().bdfs);
  }

  async validate(): Promise<void> {
    for (const bdf of this.pool.bdfs) {
      const problem = await gpuProblem(this.host, bdf);
      if (problem) throw new ConfigError(`MANAGER_QEMU_GPU_BDF: ${problem}`);
    }
    if (this.pool.size > 0) this.logger.info({ gpus: this.pool.bdfs }, 'GPUs for passthrough checked: NVIDIA, bound to vfio-pci');
  }

  async acquire(vm: VmContext): Promise<DeviceAssignment | null> {
    if (this.pool.size === 0) return null;
    return this.assignment(this.pool.take(vm.id));
  }

  preview(): DeviceAssignment | null {
    const first = this.pool.bdfs[0];
    return first === undefined ? null : this.assignment(first);
  }

  contribute(command: QemuCommand, _vm: VmContext, assignment: DeviceAssignment): void {
    const { pcieRootPort, pcieBus, fwCfgMmioMb } = this.settings();
    command.add(new PcieRootPort(pcieRootPort, pcieBus), new VfioPci(this.bdfOf(assignment), pcieRootPort), new PciMmio64Window(fwCfgMmioMb));
  }

  release(vm: VmContext, assignment: DeviceAssignment): void {
    this.pool.release(this.bdfOf(assignment), vm.id);
  }

  status(): DevicePoolStatus {
    const inUse = this.pool.held();
    return { device: this.name, resources: this.pool.bdfs, inUse, free: this.pool.bdfs.filter((bdf) => !inUse.includes(bdf)).length };
  }

  reclaim(vm: VmContext, assignment: DeviceAssignment): void {
    const bdf = this.bdfOf(assignment);
    if (!this.pool.bdfs.includes(bdf)) {
      // Still the VM's until it goes: no new VM may get it, even if the setting no longer lists it.
      this.logger.warn({ vm: vm.id, bdf }, 're-adopted VM holds a GPU MANAGER_QEMU_GPU_BDF no longer lists');
    }
    const other = this.pool.claim(bdf, vm.id);
    if (other) this.logger.warn({ vm: vm.id, bdf, other }, 'two re-adopted VMs record the same GPU');
  }

  private assignment(bdf: string): DeviceAssignment {
    return { device: this.name, values: { bdf } };
  }

  private bdfOf(assignment: DeviceAssignment): string {
    const bdf = assignment.values['bdf'];
    if (bdf === undefined) throw new ManagerError('STATE_RECORD_INVALID', `a ${this.name} assignment without a bdf: ${JSON.stringify(assignment.values)}`);
    return bdf;
  }

  private settings() {
    return this.config.read(gpuSettings).gpu;
  }
}
