import { access, constants } from 'node:fs/promises';
import { inject, injectable } from 'tsyringe';
import type { BootStrategy } from '../api/boot-strategy.js';
import { CONFIG } from '../api/tokens.js';
import type { VmContext } from '../api/vm-context.js';
import { coreSettings } from '../config/core-settings.js';
import { ConfigError, type ManagerConfig } from '../config/manager-config.js';
import type { QemuCommand } from '../qemu/command.js';
import { Initrd, Kernel, KernelCommandLine } from '../qemu/elements/boot.js';

/** RAM boot: `-kernel`, `-append`, `-initrd` (the EOS/HAL in-memory CVM). */
@injectable()
export class RamBootStrategy implements BootStrategy {
  readonly name = 'ram';

  constructor(@inject(CONFIG) private readonly config: ManagerConfig) {}

  /** Never selected by configuration: it is what the registry falls back to when nothing else is. */
  selected(): boolean {
    return false;
  }

  async validate(): Promise<void> {
    const { kernelFile, rootfsFile } = this.config.read(coreSettings).qemu;
    for (const [file, env] of [
      [kernelFile, coreSettings.qemu.kernelFile.env],
      [rootfsFile, coreSettings.qemu.rootfsFile.env],
    ] as const) {
      try {
        await access(file, constants.R_OK);
      } catch {
        throw new ConfigError(`${env}=${JSON.stringify(file)}: expected a readable file (RAM boot needs it)`);
      }
    }
  }

  async prepare(): Promise<void> {}

  contribute(command: QemuCommand, vm: VmContext): void {
    command.add(
      new Kernel(this.config.read(coreSettings).qemu.kernelFile),
      new KernelCommandLine(vm.kernelCommandLine),
      new Initrd(this.config.read(coreSettings).qemu.rootfsFile),
    );
  }

  async cleanup(): Promise<void> {}
}
