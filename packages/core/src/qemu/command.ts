import type { QemuElement } from './element.js';
import { ManagerError } from '../errors.js';

/**
 * A QEMU invocation as a typed list of elements. Core, the backend and the
 * boot strategy each add their elements; `argv()` renders them in the fixed
 * section order. QEMU is always started from this argv array, never a shell
 * string.
 */
export class QemuCommand {
  private readonly elements: Array<{ element: QemuElement; seq: number }> = [];

  constructor(
    readonly binary: string,
    readonly useSudo = false,
  ) {
    if (binary.trim() === '') throw new ManagerError('QEMU_ARGUMENT_INVALID', 'QEMU binary must not be empty');
  }

  add(...elements: QemuElement[]): this {
    for (const element of elements) this.elements.push({ element, seq: this.elements.length });
    return this;
  }

  /** The arguments after the program name. */
  args(): string[] {
    return [...this.elements].sort((a, b) => a.element.section - b.element.section || a.seq - b.seq).flatMap(({ element }) => element.render());
  }

  /**
   * The complete argv: `[sudo -n,] <qemu binary>, ...args`. `-n`: sudo never
   * prompts — a missing NOPASSWD rule fails the start at once with sudo's
   * one-line reason instead of a create hanging on a password nobody types.
   */
  argv(): string[] {
    return [...(this.useSudo ? ['sudo', '-n'] : []), this.binary, ...this.args()];
  }
}
