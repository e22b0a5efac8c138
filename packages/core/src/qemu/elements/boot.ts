import { QemuElementError, QemuSection, type QemuElement } from '../element.js';
import { checkNonEmpty } from '../properties.js';

/** `-kernel <file>`: direct kernel boot. */
export class Kernel implements QemuElement {
  readonly section = QemuSection.Boot;
  constructor(readonly file: string) {
    checkNonEmpty('kernel', 'kernel file', file);
  }
  render(): string[] {
    return ['-kernel', this.file];
  }
}

/** `-append <cmdline>`: the kernel command line (one argv word, spaces and all). */
export class KernelCommandLine implements QemuElement {
  readonly section = QemuSection.Boot;
  constructor(readonly cmdline: string) {
    if (/[\0\n\r]/.test(cmdline)) throw new QemuElementError('append', 'kernel command line must not contain NUL or line breaks');
  }
  render(): string[] {
    return ['-append', this.cmdline];
  }
}

/** `-initrd <file>`. */
export class Initrd implements QemuElement {
  readonly section = QemuSection.Boot;
  constructor(readonly file: string) {
    checkNonEmpty('initrd', 'initrd file', file);
  }
  render(): string[] {
    return ['-initrd', this.file];
  }
}

/** `-bios <file>`: a single firmware image (TDX's OVMF). */
export class Bios implements QemuElement {
  readonly section = QemuSection.Firmware;
  constructor(readonly file: string) {
    checkNonEmpty('bios', 'firmware file', file);
  }
  render(): string[] {
    return ['-bios', this.file];
  }
}
