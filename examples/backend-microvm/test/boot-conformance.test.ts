import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeBootStrategyConformance } from '@cocos-manager/testing';
import plugin from '../src/index.js';

// This plugin brings a backend and no boot strategy: microvm has no PCI
// firmware to boot a disk from, so its VMs boot the kernel directly, with
// core's ram strategy. The suite runs ram as this plugin is used — loaded,
// selected, and on the microvm machine — so its `command` case checks the
// whole command (core's elements, microvm's machine properties, ram's
// -kernel/-initrd/-append) and its `selection` case that loading the
// plugin leaves ram the strategy VMs boot with.
describeBootStrategyConformance({
  plugins: [plugin],
  strategyName: 'ram',
  env: { MANAGER_TEE_BACKEND: 'microvm', MANAGER_QEMU_MACHINE: 'microvm' },
  media: async (dir) => {
    const kernel = path.join(dir, 'vmlinuz');
    const initrd = path.join(dir, 'initrd.img');
    await writeFile(kernel, 'kernel');
    await writeFile(initrd, 'initramfs');
    return { MANAGER_QEMU_DISK_IMG_KERNEL_FILE: kernel, MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: initrd };
  },
  preparesFromMedia: false,
});
