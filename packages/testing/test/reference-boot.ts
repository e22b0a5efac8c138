import { access, constants, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  BOOT_STRATEGY,
  CONFIG,
  ConfigError,
  definePlugin,
  Drive,
  formats as f,
  instanceCachingFactory,
  ManagerError,
  setting,
  type BootStrategy,
  type ManagerConfig,
  type QemuCommand,
  type VmContext,
} from '@cocos-manager/core';
import type { BootStrategyConformanceOptions } from '../src/index.js';

export const copyBootSettings = {
  copyBoot: {
    enable: setting({ env: 'TEST_COPY_BOOT_ENABLE', doc: 'Boot from a per-VM copy of TEST_COPY_BOOT_IMAGE.', default: 'false', format: f.boolean }),
    image: setting({ env: 'TEST_COPY_BOOT_IMAGE', doc: 'The image each VM gets a copy of.', default: 'boot.img', format: f.nonEmptyText }),
    dir: setting({ env: 'TEST_COPY_BOOT_DIR', doc: "Where the copies go (empty: the VM's directory).", default: '', format: f.text }),
  },
};

/**
 * A small boot strategy that keeps every rule: each VM boots from its own
 * copy of an image (0600, made with O_EXCL so a planted link is refused),
 * in its directory or a configured one, removed by cleanup. The test kit's
 * tests break one rule at a time in subclasses (broken-boots.ts).
 */
export class CopyBoot implements BootStrategy {
  readonly name: string = 'copy-boot';

  constructor(protected readonly config: ManagerConfig) {}

  selected(): boolean {
    return this.settings().enable;
  }

  async validate(): Promise<void> {
    const { image } = this.settings();
    try {
      await access(image, constants.R_OK);
    } catch {
      throw new ConfigError(`TEST_COPY_BOOT_IMAGE=${JSON.stringify(image)}: expected a readable image`);
    }
  }

  async prepare(vm: VmContext): Promise<void> {
    const data = await this.image();
    try {
      await writeFile(this.disk(vm), data, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      throw new ManagerError('VM_PREPARE_FAILED', "the VM's boot disk could not be made", { detail: String(err) });
    }
  }

  contribute(command: QemuCommand, vm: VmContext): void {
    command.add(
      new Drive([
        ['file', this.disk(vm)],
        ['if', 'virtio'],
        ['format', 'raw'],
      ]),
    );
  }

  async cleanup(vm: VmContext): Promise<void> {
    await rm(this.disk(vm), { force: true });
  }

  disk(vm: VmContext): string {
    const { dir } = this.settings();
    return dir === '' ? vm.file('boot.img') : path.join(dir, `${vm.id}.img`);
  }

  /** The image's bytes; a failure is the client's FAILED_PRECONDITION, the path only in the operator's detail. */
  protected async image(): Promise<Buffer> {
    try {
      return await readFile(this.settings().image);
    } catch (err) {
      throw new ManagerError('VM_PREPARE_FAILED', 'the boot image could not be read', { detail: String(err) });
    }
  }

  protected settings() {
    return this.config.read(copyBootSettings).copyBoot;
  }
}

/** A plugin providing the strategy `make` builds (copies: `times` registrations). */
export function copyBootPlugin(make: (config: ManagerConfig) => BootStrategy = (c) => new CopyBoot(c), times = 1) {
  return definePlugin({
    name: 'test-copy-boot',
    version: '0.0.0',
    coreVersionRange: '^0.1.0',
    configSchema: copyBootSettings,
    provides: [BOOT_STRATEGY],
    register(container) {
      for (let i = 0; i < times; i++) {
        container.register(BOOT_STRATEGY, { useFactory: instanceCachingFactory((c) => make(c.resolve<ManagerConfig>(CONFIG))) });
      }
    },
  });
}

/** The conformance options for the strategy `make` builds (the good one by default). */
export function copyBootOptions(
  make?: (config: ManagerConfig) => BootStrategy,
  extra: Partial<BootStrategyConformanceOptions> = {},
): BootStrategyConformanceOptions {
  return {
    plugins: [copyBootPlugin(make)],
    strategyName: 'copy-boot',
    selectedBy: { TEST_COPY_BOOT_ENABLE: 'true' },
    media: async (dir) => {
      const image = path.join(dir, 'boot.img');
      await writeFile(image, 'a bootable image\n');
      return { TEST_COPY_BOOT_IMAGE: image };
    },
    preparesFromMedia: true,
    outside: (dir) => ({ TEST_COPY_BOOT_DIR: dir }),
    ...extra,
  };
}
