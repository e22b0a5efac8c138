import { chmod, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Drive, ManagerError, type QemuCommand, type VmContext } from '@cocos-manager/core';
import { broken, type BrokenBoot } from './broken-boot.js';
import { CopyBoot } from './reference-boot.js';

/** Strategies that break a rule on the files they make and remove. */
export const BROKEN_BOOT_FILES: BrokenBoot[] = [
  broken(
    'a cache beside the VM directories',
    'writes-inside',
    /writes outside/,
    class extends CopyBoot {
      override async prepare(vm: VmContext) {
        await super.prepare(vm);
        await writeFile(path.join(path.dirname(vm.dir), 'boot-cache'), 'cache');
      }
    },
  ),
  broken(
    'a scratch file in the temporary directory',
    'writes-inside',
    /writes outside/,
    class extends CopyBoot {
      override async prepare(vm: VmContext) {
        await super.prepare(vm);
        await writeFile(path.join(os.tmpdir(), `copy-boot-${vm.id}`), 'scratch');
      }
    },
  ),
  broken(
    'a disk others may read',
    'writes-inside',
    /no group or other access/,
    class extends CopyBoot {
      override async prepare(vm: VmContext) {
        await super.prepare(vm);
        await chmod(this.disk(vm), 0o644);
      }
    },
  ),
  broken(
    'a shared host file on the command line',
    'writes-inside',
    /neither the VM's nor the boot media/,
    class extends CopyBoot {
      override contribute(command: QemuCommand, vm: VmContext) {
        super.contribute(command, vm);
        command.add(
          new Drive([
            ['file', '/var/tmp/shared-scratch.img'],
            ['if', 'virtio'],
          ]),
        );
      }
    },
  ),
  broken(
    'one file for every VM when configured outside',
    'writes-inside',
    /outside.*writes outside/,
    class extends CopyBoot {
      override disk(vm: VmContext) {
        const { dir } = this.settings();
        return dir === '' ? vm.file('boot.img') : path.join(dir, 'boot.img');
      }
    },
  ),
  broken(
    'a link to the shared image instead of a copy',
    'writes-inside',
    /links to/,
    class extends CopyBoot {
      override async prepare(vm: VmContext) {
        await symlink(this.settings().image, this.disk(vm));
      }
    },
  ),
  broken(
    'a write that follows links',
    'no-follow',
    /target is left as it was/,
    class extends CopyBoot {
      override async prepare(vm: VmContext) {
        await writeFile(this.disk(vm), await this.image(), { mode: 0o600 });
      }
    },
  ),
  broken(
    'a cleanup that leaves the disk',
    'cleanup',
    /removes exactly a's files/,
    class extends CopyBoot {
      override cleanup = async () => undefined;
    },
  ),
  broken(
    'a cleanup that fails the second time',
    'cleanup',
    /ENOENT/,
    class extends CopyBoot {
      override async cleanup(vm: VmContext) {
        await rm(this.disk(vm));
      }
    },
  ),
  broken(
    "a cleanup that empties the VM's directory",
    'cleanup',
    /removes exactly a's files/,
    class extends CopyBoot {
      override async cleanup(vm: VmContext) {
        await super.cleanup(vm);
        for (const name of await readdir(vm.dir).catch(() => [])) await rm(path.join(vm.dir, name), { recursive: true, force: true });
      }
    },
  ),
  broken(
    'a missing image as a bare Error',
    'failure',
    /fails with a ManagerError/,
    class extends CopyBoot {
      override async prepare(vm: VmContext) {
        await writeFile(this.disk(vm), await readFile(this.settings().image), { mode: 0o600, flag: 'wx' });
      }
    },
  ),
  broken(
    "the image's path in the client's message",
    'failure',
    /shows no host path/,
    class extends CopyBoot {
      override async prepare(vm: VmContext) {
        await super.prepare(vm).catch(() => Promise.reject(new ManagerError('VM_PREPARE_FAILED', `cannot read ${this.settings().image}`)));
      }
    },
  ),
  broken(
    'a partial file a failed prepare leaves',
    'failure',
    /cleanup after it leaves nothing/,
    class extends CopyBoot {
      override async prepare(vm: VmContext) {
        await mkdir(vm.dir, { recursive: true });
        await writeFile(`${this.disk(vm)}.part`, '', { mode: 0o600 });
        await super.prepare(vm);
        await rm(`${this.disk(vm)}.part`);
      }
    },
  ),
];
