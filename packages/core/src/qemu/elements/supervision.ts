import { QemuSection, type QemuElement } from '../element.js';
import { checkNonEmpty, escapeOptionValue } from '../properties.js';

/**
 * `-name <name>`: carries the VM id in QEMU's argv, so a restarted manager can
 * tell its own QEMU from a process that reused the pid.
 */
export class GuestName implements QemuElement {
  readonly section = QemuSection.Supervision;
  constructor(readonly name: string) {
    checkNonEmpty('name', 'guest name', name);
  }
  render(): string[] {
    return ['-name', escapeOptionValue(this.name)];
  }
}
