import { QemuElementError, QemuSection, type QemuElement } from '../element.js';
import { SingleValueOption } from '../single-value-option.js';

/** `-cpu <model>`. */
export class Cpu extends SingleValueOption {
  constructor(readonly model: string) {
    super('-cpu', QemuSection.Cpu, 'CPU model', model);
  }
}

/** `-smp <count>,maxcpus=<max>`. */
export class Smp implements QemuElement {
  readonly section = QemuSection.Smp;
  constructor(
    readonly count: number,
    readonly maxCpus: number,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new QemuElementError('smp', `CPU count ${count} must be a positive integer`);
    if (!Number.isInteger(maxCpus) || maxCpus < count) {
      throw new QemuElementError('smp', `maxcpus ${maxCpus} must be an integer ≥ the CPU count ${count}`);
    }
  }
  render(): string[] {
    return ['-smp', `${this.count},maxcpus=${this.maxCpus}`];
  }
}
