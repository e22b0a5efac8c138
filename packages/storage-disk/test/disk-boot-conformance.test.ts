import path from 'node:path';
import { execa } from 'execa';
import { describeBootStrategyConformance } from '@cocos-manager/testing';
import storageDiskPlugin from '../src/index.js';

/** A small qcow2 reference disk, made with the real qemu-img. */
async function reference(dir: string): Promise<Record<string, string>> {
  const file = path.join(dir, 'reference.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', file, '64M']);
  return { MANAGER_QEMU_SRC_DISK_FILE: file };
}

for (const provisioning of ['overlay', 'copy']) {
  describeBootStrategyConformance({
    plugins: [storageDiskPlugin],
    strategyName: 'disk',
    selectedBy: { MANAGER_QEMU_ENABLE_DISK: 'true' },
    env: { MANAGER_QEMU_DISK_PROVISIONING: provisioning },
    media: reference,
    preparesFromMedia: true,
    // The operator may put per-VM disks elsewhere (the Go manager's MANAGER_QEMU_DST_DISK_FILE): the file cases run with it too.
    outside: (dir) => ({ MANAGER_QEMU_DST_DISK_FILE: path.join(dir, 'cvm-{id}.qcow2') }),
  });
}
