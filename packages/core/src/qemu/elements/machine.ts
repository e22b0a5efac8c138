import { QemuSection, type QemuElement } from '../element.js';
import { checkNonEmpty, renderOption, renderProperties, type QemuProperties } from '../properties.js';
import { ManagerError } from '../../errors.js';

/** `-machine <type>[,props]`: the machine type. */
export class Machine implements QemuElement {
  readonly section = QemuSection.Machine;
  constructor(
    readonly type: string,
    readonly properties: QemuProperties = [],
  ) {
    checkNonEmpty('machine', 'machine type', type);
  }
  render(): string[] {
    return ['-machine', renderOption(this.type, this.properties)];
  }
}

/**
 * A further `-machine props` option, as confidential backends add
 * (`confidential-guest-support=…,memory-backend=…`); QEMU merges repeated
 * -machine options.
 */
export class MachineProperties implements QemuElement {
  readonly section = QemuSection.Confidential;
  constructor(readonly properties: QemuProperties) {
    if (properties.length === 0) throw new ManagerError('QEMU_ARGUMENT_INVALID', 'machine properties: at least one property is needed');
  }
  render(): string[] {
    return ['-machine', renderProperties(this.properties)];
  }
}
