import { checkId, Device, FwCfgString, QemuElementError, QemuSection } from '@cocos-manager/core';

const BDF = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$/i;

/** `-device pcie-root-port,id=<port>,bus=<bus>`: the slot the GPU plugs into. */
export class PcieRootPort extends Device {
  constructor(id: string, bus: string) {
    checkId('pcie-root-port', 'id', id);
    checkId('pcie-root-port', 'bus', bus);
    super(
      'pcie-root-port',
      [
        ['id', id],
        ['bus', bus],
      ],
      QemuSection.Devices,
    );
  }
}

/** `-device vfio-pci,host=<BDF>,bus=<port>`: the host GPU itself, passed through by VFIO. */
export class VfioPci extends Device {
  constructor(host: string, bus: string) {
    if (!BDF.test(host)) throw new QemuElementError('vfio-pci', `host "${host}" is not a PCI address DDDD:BB:DD.F`);
    checkId('vfio-pci', 'bus', bus);
    super(
      'vfio-pci',
      [
        ['host', host],
        ['bus', bus],
      ],
      QemuSection.Devices,
    );
  }
}

/** OVMF's fw_cfg knob for the 64-bit PCI MMIO window (MiB): a GPU's BARs need a large one. */
export const PCI_MMIO64_FW_CFG = 'opt/ovmf/X-PciMmio64Mb';

/** `-fw_cfg name=opt/ovmf/X-PciMmio64Mb,string=<MiB>`. */
export class PciMmio64Window extends FwCfgString {
  constructor(mib: number) {
    if (!Number.isInteger(mib) || mib < 1) throw new QemuElementError('fw_cfg', `X-PciMmio64Mb ${mib} is not a positive number of MiB`);
    super(PCI_MMIO64_FW_CFG, String(mib), QemuSection.Devices);
  }
}
