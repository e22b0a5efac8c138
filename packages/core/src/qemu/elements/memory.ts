import { QemuElementError, QemuSection, type QemuElement } from '../element.js';
import { checkSize } from '../properties.js';

/** `-m <size>,slots=<n>,maxmem=<max>`. */
export class Memory implements QemuElement {
  readonly section = QemuSection.Memory;
  constructor(
    readonly size: string,
    readonly slots: number,
    readonly maxMemory: string,
  ) {
    checkSize('memory', 'size', size);
    checkSize('memory', 'maxmem', maxMemory);
    if (!Number.isInteger(slots) || slots < 0) throw new QemuElementError('memory', `slots ${slots} must be a non-negative integer`);
  }
  render(): string[] {
    return ['-m', `${this.size},slots=${this.slots},maxmem=${this.maxMemory}`];
  }
}
