import { readFile } from 'node:fs/promises';
import { ConfigError, Drive, Kernel, Machine, type QemuCommand, type VmContext } from '@cocos-manager/core';
import { broken, counter, type BrokenBoot } from './broken-boot.js';
import { copyBootOptions, copyBootPlugin, CopyBoot } from './reference-boot.js';

/** Strategies that break a rule on their name, selection, validation or QEMU arguments. */
export const BROKEN_BOOT_COMMANDS: BrokenBoot[] = [
  broken(
    'a name with capitals',
    'resolves',
    /a lower-case name/,
    class extends CopyBoot {
      override readonly name = 'Copy_Boot';
    },
    { strategyName: 'Copy_Boot' },
  ),
  {
    what: 'registered twice',
    fails: 'resolves',
    saying: /one strategy named/,
    options: { ...copyBootOptions(), plugins: [copyBootPlugin(undefined, 2)] },
  },
  broken(
    'selected without its switch',
    'selection',
    /selected without its switch/,
    class extends CopyBoot {
      override selected = () => true;
    },
  ),
  broken(
    'a selected() that flips',
    'selection',
    /same answer each time/,
    class extends CopyBoot {
      override selected = () => counter.n++ % 2 === 0;
    },
  ),
  broken(
    'a validate that checks nothing',
    'validate',
    /refuses missing boot media/,
    class extends CopyBoot {
      override validate = async () => undefined;
    },
  ),
  broken(
    'a validate that throws a bare Error',
    'validate',
    /refuses missing boot media/,
    class extends CopyBoot {
      override async validate() {
        await readFile(this.settings().image);
      }
    },
  ),
  broken(
    'a validate that does not name the file',
    'validate',
    /names a missing file/,
    class extends CopyBoot {
      override async validate() {
        await super.validate().catch(() => Promise.reject(new ConfigError('the boot image is missing')));
      }
    },
  ),
  broken(
    'a second -machine',
    'contribution',
    /Machine in section 20/,
    class extends CopyBoot {
      override contribute(command: QemuCommand, vm: VmContext) {
        super.contribute(command, vm);
        command.add(new Machine('q35'));
      }
    },
  ),
  broken(
    'no contribution',
    'contribution',
    /at least one element/,
    class extends CopyBoot {
      override contribute = () => undefined;
    },
  ),
  broken(
    'a drive id that changes each time',
    'contribution',
    /same arguments/,
    class extends CopyBoot {
      override contribute(command: QemuCommand, vm: VmContext) {
        command.add(
          new Drive([
            ['file', this.disk(vm)],
            ['id', `boot${counter.n++}`],
          ]),
        );
      }
    },
  ),
  broken(
    "another VM's id in the arguments",
    'contribution',
    /never name another VM/,
    class extends CopyBoot {
      override contribute(command: QemuCommand, vm: VmContext) {
        command.add(
          new Drive([
            ['file', this.disk(vm)],
            ['serial', 'aaaaaaaa-0000-4000-8000-00000000000a-bbbbbbbb-0000-4000-8000-00000000000b'],
          ]),
        );
      }
    },
  ),
  broken(
    'an element id core uses',
    'command',
    /element ids used twice/,
    class extends CopyBoot {
      override contribute(command: QemuCommand, vm: VmContext) {
        command.add(
          new Drive([
            ['file', this.disk(vm)],
            ['id', 'cert_fs'],
          ]),
        );
      }
    },
  ),
  broken(
    '-kernel twice',
    'command',
    /-kernel at most once/,
    class extends CopyBoot {
      override contribute(command: QemuCommand, vm: VmContext) {
        command.add(new Kernel(this.disk(vm)), new Kernel(this.disk(vm)));
      }
    },
  ),
];
