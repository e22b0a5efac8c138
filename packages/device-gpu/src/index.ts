import { definePlugin, Lifecycle, VM_DEVICE } from '@cocos-manager/core';
import { GpuDevice } from './gpu-device.js';
import { gpuSettings } from './settings.js';

export { GPU_DEVICE, GpuDevice } from './gpu-device.js';
export { gpuWire } from './gpu-wire.js';
export { GpuPool } from './gpu-pool.js';
export { gpuProblem, readPciDevice, NVIDIA_VENDOR, VFIO_PCI_DIR, type PciDevice } from './gpu-probe.js';
export { PcieRootPort, VfioPci, PciMmio64Window, PCI_MMIO64_FW_CFG } from './gpu-elements.js';
export { gpuSettings, bdfList } from './settings.js';

export const PLUGIN_VERSION = '0.1.0';

/** Confidential GPU VMs: NVIDIA GPUs bound to vfio-pci, one per VM (MANAGER_QEMU_GPU_BDF). */
export const deviceGpuPlugin = definePlugin({
  name: '@cocos-manager/device-gpu',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: gpuSettings,
  provides: [VM_DEVICE],
  register(container) {
    container.register(VM_DEVICE, { useClass: GpuDevice }, { lifecycle: Lifecycle.Singleton });
  },
});

export default deviceGpuPlugin;
