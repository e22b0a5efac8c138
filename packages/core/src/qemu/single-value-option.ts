import type { QemuElement, QemuSection } from './element.js';
import { checkNonEmpty } from './properties.js';

/** An option that takes one non-empty value verbatim: `-kernel <file>`, `-cpu <model>`… */
export abstract class SingleValueOption implements QemuElement {
  protected constructor(
    private readonly flag: string,
    readonly section: QemuSection,
    what: string,
    protected readonly value: string,
  ) {
    checkNonEmpty(flag.slice(1), what, value);
  }

  render(): string[] {
    return [this.flag, this.value];
  }
}
