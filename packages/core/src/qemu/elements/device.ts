import { QemuSection, type QemuElement } from '../element.js';
import { checkId, checkNonEmpty, renderOption, type QemuProperties } from '../properties.js';

/** `-device <driver>[,props]`: any device, properties in the order given. */
export class Device implements QemuElement {
  constructor(
    readonly driver: string,
    readonly properties: QemuProperties,
    readonly section: QemuSection,
  ) {
    checkNonEmpty('device', 'driver', driver);
  }
  render(): string[] {
    return ['-device', renderOption(this.driver, this.properties)];
  }
}

/** The agent's NIC: `virtio-net-pci,disable-legacy=…,iommu_platform=…,netdev=…,addr=…,romfile=…`. */
export class VirtioNetPci extends Device {
  constructor(options: { netdev: string; disableLegacy: string; iommuPlatform: string; addr: string; romfile: string }) {
    checkId('virtio-net-pci', 'netdev', options.netdev);
    super(
      'virtio-net-pci',
      [
        ['disable-legacy', options.disableLegacy],
        ['iommu_platform', options.iommuPlatform],
        ['netdev', options.netdev],
        ['addr', options.addr],
        ['romfile', options.romfile],
      ],
      QemuSection.Network,
    );
  }
}
