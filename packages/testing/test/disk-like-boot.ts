import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { BOOT_STRATEGY, definePlugin, type BootStrategy, type VmContext } from '@cocos-manager/core';

/** A boot strategy whose per-VM "disk" lives outside the run directory (as MANAGER_QEMU_DST_DISK_FILE puts it), and that counts its cleanups. */
export class DiskLikeBoot implements BootStrategy {
  readonly name = 'test-disk';
  readonly cleanups: string[] = [];
  failCleanup = false;
  constructor(readonly diskDir: string) {}
  selected = () => true;
  validate = async () => undefined;
  contribute = () => undefined;
  disk(id: string) {
    return path.join(this.diskDir, `${id}.qcow2`);
  }
  async prepare(vm: VmContext) {
    mkdirSync(this.diskDir, { recursive: true });
    writeFileSync(this.disk(vm.id), 'disk');
  }
  async cleanup(vm: VmContext) {
    this.cleanups.push(vm.id);
    if (this.failCleanup) throw new Error('EBUSY: the disk is busy (scripted)');
    await rm(this.disk(vm.id), { force: true });
  }
}

export function bootPlugin(boot: DiskLikeBoot) {
  return definePlugin({
    name: 'test-disk-boot',
    version: '0.0.0',
    coreVersionRange: '^0.1.0',
    provides: [BOOT_STRATEGY],
    register(container) {
      container.register(BOOT_STRATEGY, { useValue: boot });
    },
  });
}
