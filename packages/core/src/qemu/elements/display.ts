import { QemuSection, type QemuElement } from '../element.js';
import { SingleValueOption } from '../single-value-option.js';

/** `-nographic`: no display; the serial console goes to QEMU's stdio. */
export class NoGraphic implements QemuElement {
  readonly section = QemuSection.Display;
  render(): string[] {
    return ['-nographic'];
  }
}

/** `-nodefaults`: no default devices (a confidential guest's minimal machine). */
export class NoDefaults implements QemuElement {
  constructor(readonly section: QemuSection = QemuSection.Display) {}
  render(): string[] {
    return ['-nodefaults'];
  }
}

/** `-monitor <chardev>` (`pty` by default). */
export class Monitor extends SingleValueOption {
  constructor(readonly chardev: string) {
    super('-monitor', QemuSection.Monitor, 'chardev', chardev);
  }
}
