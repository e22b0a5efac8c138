import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeBootStrategyConformance } from '../src/index.js';

/** A kernel and an initramfs: RAM boot only checks they are readable and names them on the command line. */
async function ramMedia(dir: string): Promise<Record<string, string>> {
  const kernel = path.join(dir, 'bzImage');
  const initrd = path.join(dir, 'rootfs.cpio.gz');
  await writeFile(kernel, 'kernel');
  await writeFile(initrd, 'initramfs');
  return { MANAGER_QEMU_DISK_IMG_KERNEL_FILE: kernel, MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: initrd };
}

// Core's own strategy. It is here, not in packages/core/test: core may not
// depend on the test kit (the kit depends on core; the module boundary rule
// and the build graph both refuse the cycle), as with the kit's other tests of core.
describeBootStrategyConformance({ plugins: [], strategyName: 'ram', media: ramMedia, preparesFromMedia: false });
