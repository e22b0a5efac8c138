import type { QemuCommand } from '../qemu/command.js';
import type { VmContext } from './vm-context.js';

/** How a VM gets its OS: `ram` (kernel + initramfs, core) or `disk` (storage-disk), or a third party's. */
export interface BootStrategy {
  readonly name: string;
  /**
   * Whether configuration asks for this strategy. `ram` is the fallback when
   * no other strategy is selected; two selected strategies is a start-up error.
   */
  selected(): boolean;
  /** Start-time checks (boot media exists and is readable). */
  validate(): Promise<void>;
  prepare(vm: VmContext): Promise<void>;
  contribute(command: QemuCommand, vm: VmContext): void;
  /**
   * Removes the VM's boot media (a per-VM disk). Called once per VM by core's
   * teardown — after a failed create (even in `prepare`), an exit, a removal,
   * or a restart that found the VM dead — so it must cope with a half-done
   * or missing `prepare`.
   */
  cleanup(vm: VmContext): Promise<void>;
}
