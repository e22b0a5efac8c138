import { QemuSection, type QemuElement } from '../element.js';
import { checkNonEmpty } from '../properties.js';

/** `-nographic`: no display; the serial console goes to QEMU's stdio. */
export class NoGraphic implements QemuElement {
  readonly section = QemuSection.Display;
  render(): string[] {
    return ['-nographic'];
  }
}

/** `-nodefaults`: no default devices (TDX). */
export class NoDefaults implements QemuElement {
  readonly section = QemuSection.Display;
  render(): string[] {
    return ['-nodefaults'];
  }
}

/** `-monitor <chardev>` (`pty` by default). */
export class Monitor implements QemuElement {
  readonly section = QemuSection.Monitor;
  constructor(readonly chardev: string) {
    checkNonEmpty('monitor', 'chardev', chardev);
  }
  render(): string[] {
    return ['-monitor', this.chardev];
  }
}
