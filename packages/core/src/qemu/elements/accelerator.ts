import { QemuSection, type QemuElement } from '../element.js';

/** `-enable-kvm`: hardware acceleration. Left out, QEMU runs under TCG emulation. */
export class EnableKvm implements QemuElement {
  readonly section = QemuSection.Accelerator;
  render(): string[] {
    return ['-enable-kvm'];
  }
}
