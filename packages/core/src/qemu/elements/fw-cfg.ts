import { QemuElementError, QemuSection, type QemuElement } from '../element.js';
import { checkNonEmpty, renderProperties } from '../properties.js';

/** fw_cfg item names are at most 55 bytes (FW_CFG_MAX_FILE_PATH less its NUL). */
const MAX_NAME = 55;

/**
 * `-fw_cfg name=<name>,string=<value>`: an item the firmware reads (OVMF's
 * `opt/ovmf/X-PciMmio64Mb` sizes the 64-bit PCI window a passed-through device's large BAR needs).
 */
export class FwCfgString implements QemuElement {
  constructor(
    readonly name: string,
    readonly value: string,
    readonly section: QemuSection = QemuSection.Devices,
  ) {
    checkNonEmpty('fw_cfg', 'name', name);
    if (name.length > MAX_NAME || /[,\s]/.test(name)) {
      throw new QemuElementError('fw_cfg', `name "${name}" must be at most ${MAX_NAME} characters without commas or spaces`);
    }
    checkNonEmpty('fw_cfg', 'string', value);
  }
  render(): string[] {
    return [
      '-fw_cfg',
      renderProperties([
        ['name', this.name],
        ['string', this.value],
      ]),
    ];
  }
}
