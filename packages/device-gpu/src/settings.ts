import { formats as f, ManagerError, setting, type SettingFormat } from '@cocos-manager/core';

/** A PCI address as sysfs spells it: domain:bus:device.function. */
const BDF = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/;

/**
 * MANAGER_QEMU_GPU_BDF: a comma-separated list of PCI addresses, each once
 * (lower-cased, as sysfs names them); empty for no GPU.
 */
export const bdfList: SettingFormat<readonly string[]> = {
  expected: 'a comma-separated list of distinct PCI addresses DDDD:BB:DD.F such as 0000:41:00.0 (empty for no GPU)',
  parse(raw) {
    if (typeof raw !== 'string') throw new ManagerError('CONFIG_INVALID', 'not a string');
    const bdfs = raw
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '');
    if (bdfs.some((b) => !BDF.test(b)) || new Set(bdfs).size !== bdfs.length) throw new ManagerError('CONFIG_INVALID', 'not a list of distinct PCI addresses');
    return bdfs;
  },
};

/** The Go manager's GPU settings (manager/qemu/config.go GPUConfig), with its defaults. */
export const gpuSettings = {
  gpu: {
    bdfs: setting({
      env: 'MANAGER_QEMU_GPU_BDF',
      doc: 'PCI addresses of the GPUs to pass through, comma-separated (each an NVIDIA GPU bound to vfio-pci, checked at start). Each VM gets one free GPU; a create when all are taken is RESOURCE_EXHAUSTED. Empty: no GPU.',
      default: '',
      format: bdfList,
    }),
    pcieRootPort: setting({
      env: 'MANAGER_QEMU_GPU_PCIE_ROOT_PORT',
      doc: 'Id of the pcie-root-port the GPU hangs on (one per VM, so the same id in every VM).',
      default: 'pci.1',
      format: f.qemuId,
    }),
    pcieBus: setting({ env: 'MANAGER_QEMU_GPU_PCIE_BUS', doc: "The bus the GPU's pcie-root-port plugs into.", default: 'pcie.0', format: f.qemuId }),
    fwCfgMmioMb: setting({
      env: 'MANAGER_QEMU_GPU_FW_CFG_MMIO_MB',
      doc: "Size in MiB of the 64-bit PCI MMIO window OVMF gives the guest (fw_cfg opt/ovmf/X-PciMmio64Mb), large enough for the GPU's BARs.",
      default: '262144',
      format: f.integer(1, 16_777_216),
    }),
  },
};
