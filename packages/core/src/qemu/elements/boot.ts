import { QemuElementError, QemuSection, type QemuElement } from '../element.js';
import { SingleValueOption } from '../single-value-option.js';

/** `-kernel <file>`: direct kernel boot. */
export class Kernel extends SingleValueOption {
  constructor(readonly file: string) {
    super('-kernel', QemuSection.Boot, 'kernel file', file);
  }
}

/** `-append <cmdline>`: the kernel command line (one argv word, spaces and all; may be empty). */
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
export class Initrd extends SingleValueOption {
  constructor(readonly file: string) {
    super('-initrd', QemuSection.Boot, 'initrd file', file);
  }
}

/** `-bios <file>`: a single firmware image (code and vars in one OVMF file). */
export class Bios extends SingleValueOption {
  constructor(
    readonly file: string,
    section: QemuSection = QemuSection.Firmware,
  ) {
    super('-bios', section, 'firmware file', file);
  }
}
