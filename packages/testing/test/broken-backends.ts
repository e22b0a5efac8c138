import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  MachineProperties,
  type BackendSelection,
  type ManagerConfig,
  type QemuCommand,
  type TeeBackend,
  type VmContext,
} from '@cocos-manager/core';
import type { TeeBackendConformanceOptions } from '../src/index.js';
import { RefTee, refTeeOptions } from './reference-backend.js';

/** A backend that breaks one rule, the case that must catch it, and what that case says. */
export interface BrokenBackend {
  readonly what: string;
  readonly fails: string;
  readonly saying: RegExp;
  options(firmware: string): TeeBackendConformanceOptions;
}

let calls = 0;
const broken = (
  what: string,
  fails: string,
  saying: RegExp,
  backend: new (c: ManagerConfig) => TeeBackend,
  extra: Partial<TeeBackendConformanceOptions> = {},
): BrokenBackend => ({
  what,
  fails,
  saying,
  options: (firmware) => refTeeOptions(firmware, (c) => new backend(c), extra),
});

export const BROKEN_BACKENDS: BrokenBackend[] = [
  broken(
    'a name with capitals',
    'resolves',
    /a lower-case name/,
    class extends RefTee {
      override readonly name = 'Ref_Tee';
    },
    { backendName: 'Ref_Tee' },
  ),
  broken(
    'a selection that changes between reads',
    'selection',
    /the declaration is stable/,
    class extends RefTee {
      override get selection(): BackendSelection {
        return { priority: calls++, detect: 'probe' };
      }
    },
  ),
  broken(
    'a switch that is not its own setting',
    'selection',
    /is declared by test-ref-tee/,
    class extends RefTee {
      override get selection(): BackendSelection {
        return { priority: 7, detect: 'probe', switch: { env: 'MANAGER_QEMU_ENABLE_KVM', value: null } };
      }
    },
  ),
  broken(
    'a probe that throws on a bare host',
    'probe',
    /no \/proc\/cpuinfo/,
    class extends RefTee {
      override async probe(host: Parameters<TeeBackend['probe']>[0]) {
        if ((await host.readText('/proc/cpuinfo')) === undefined) throw new Error('no /proc/cpuinfo');
        return super.probe(host);
      }
    },
  ),
  broken(
    'a probe without a reason',
    'probe',
    /a reason on/,
    class extends RefTee {
      override probe = async () => ({ available: false, reason: ' ' });
    },
  ),
  broken(
    'a guest id that changes each time',
    'contribution',
    /same arguments/,
    class extends RefTee {
      override contribute(command: QemuCommand, vm: VmContext) {
        command.add(new MachineProperties([['confidential-guest-support', `reftee-${vm.id}-${calls++}`]]));
      }
    },
  ),
  broken(
    'an element in no known section',
    'contribution',
    /unknown sections/,
    class extends RefTee {
      override contribute(command: QemuCommand, vm: VmContext) {
        super.contribute(command, vm);
        command.add({ section: 999 as never, render: () => ['-nodefaults'] });
      }
    },
  ),
  broken(
    'a file beside the VM directory',
    'files',
    /prepare writes nothing outside/,
    class extends RefTee {
      override async prepare(vm: VmContext) {
        await super.prepare(vm);
        await writeFile(path.join(path.dirname(vm.dir), 'ref-tee.lock'), '');
      }
    },
  ),
  broken(
    'a file in the temporary directory',
    'files',
    /prepare writes nothing outside/,
    class extends RefTee {
      override async prepare(vm: VmContext) {
        await super.prepare(vm);
        await writeFile(path.join(os.tmpdir(), `ref-tee-${vm.id}`), '');
      }
    },
  ),
  broken(
    'a prepare that fails',
    'files',
    /prepare under the conformance configuration/,
    class extends RefTee {
      override async prepare(vm: VmContext) {
        await writeFile(vm.file('sub', 'ref-tee.fd'), '');
      }
    },
  ),
  broken(
    'a cleanup that fails without a prepare',
    'files',
    /cleanup without prepare/,
    class extends RefTee {
      override async cleanup(vm: VmContext) {
        if (!vm.id.startsWith('3')) throw new Error('nothing to clean up');
      }
    },
  ),
  broken(
    'a document that says it is another TEE',
    'attestation',
    /for this backend/,
    class extends RefTee {
      override async attestationPolicy(vm: VmContext) {
        return { ...(await super.attestationPolicy(vm)), tee: 'sev-snp' };
      }
    },
  ),
  broken(
    'a document without measurements',
    'attestation',
    /reference measurements/,
    class extends RefTee {
      override async attestationPolicy(vm: VmContext) {
        return { ...(await super.attestationPolicy(vm)), measurements: [] };
      }
    },
  ),
  broken(
    'a document that changes each time',
    'attestation',
    /the same document each time/,
    class extends RefTee {
      override async attestationPolicy(vm: VmContext) {
        return { ...(await super.attestationPolicy(vm)), json: { nonce: calls++ } };
      }
    },
  ),
  broken(
    'a refusal where a document is due',
    'attestation',
    /a policy document, not a refusal/,
    class extends RefTee {
      override attestationPolicy = () => Promise.reject(new Error('not today'));
    },
  ),
  broken('a document where a refusal is declared', 'attestation', /a refusal, not a document/, RefTee, { attestation: 'refused' }),
  broken(
    'a refusal as a bare Error',
    'attestation',
    /FAILED_PRECONDITION or a ConfigError/,
    class extends RefTee {
      override attestationPolicy = () => Promise.reject(new Error('no attestation here'));
    },
    { attestation: 'refused' },
  ),
  broken(
    'a validate that checks nothing',
    'validate',
    /validate with/,
    class extends RefTee {
      override validate = async () => undefined;
    },
  ),
  broken(
    'a validate that refuses with a bare Error',
    'validate',
    /validate with/,
    class extends RefTee {
      override async validate() {
        await super.validate().catch((err: ConfigError) => Promise.reject(new Error(err.message)));
      }
    },
  ),
  broken(
    'a validate that refuses a good configuration',
    'validate',
    /validate under the conformance configuration/,
    class extends RefTee {
      override validate = () => Promise.reject(new ConfigError('TEST_REF_TEE_FIRMWARE: never good enough'));
    },
  ),
];
