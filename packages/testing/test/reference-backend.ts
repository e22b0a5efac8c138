import { access, constants, copyFile, readFile } from 'node:fs/promises';
import {
  CONFIG,
  ConfigError,
  definePlugin,
  formats as f,
  instanceCachingFactory,
  ManagerError,
  MachineProperties,
  setting,
  TEE_BACKEND,
  type AttestationPolicyDocument,
  type BackendSelection,
  type HostFiles,
  type ManagerConfig,
  type ProbeResult,
  type QemuCommand,
  type TeeBackend,
  type VmContext,
} from '@cocos-manager/core';
import type { TeeBackendConformanceOptions } from '../src/index.js';

export const refTeeSettings = {
  refTee: {
    enable: setting({
      env: 'TEST_REF_TEE_ENABLE',
      doc: 'Use the ref-tee backend (true), never (false), or auto-detect (empty).',
      default: '',
      format: f.optionalBoolean,
    }),
    firmware: setting({
      env: 'TEST_REF_TEE_FIRMWARE',
      doc: 'The firmware it measures and copies per VM.',
      default: '/nonexistent/ref-tee.fd',
      format: f.nonEmptyText,
    }),
  },
};

/**
 * A TEE backend that keeps every rule: it copies its firmware into the VM's
 * directory, measures it for its policy, refuses a missing one at start. The
 * test kit's tests break one rule at a time in subclasses (broken-backends.ts).
 */
export class RefTee implements TeeBackend {
  readonly name: string = 'ref-tee';

  constructor(protected readonly config: ManagerConfig) {}

  get selection(): BackendSelection | undefined {
    return { priority: 7, detect: 'probe', switch: { env: 'TEST_REF_TEE_ENABLE', value: this.settings().enable } };
  }

  async probe(host: HostFiles): Promise<ProbeResult> {
    const cpuinfo = await host.readText('/proc/cpuinfo');
    return cpuinfo?.includes(' reftee ') ? { available: true, reason: 'the CPU has reftee' } : { available: false, reason: 'no reftee CPU flag' };
  }

  async validate(): Promise<void> {
    const { firmware } = this.settings();
    try {
      await access(firmware, constants.R_OK);
    } catch {
      throw new ConfigError(`TEST_REF_TEE_FIRMWARE=${JSON.stringify(firmware)}: expected a readable firmware file`);
    }
  }

  async prepare(vm: VmContext): Promise<void> {
    await copyFile(this.settings().firmware, vm.file('ref-tee.fd'));
  }

  contribute(command: QemuCommand, vm: VmContext): void {
    command.add(new MachineProperties([['confidential-guest-support', `reftee-${vm.id}`]]));
  }

  async cleanup(_vm: VmContext): Promise<void> {}

  async attestationPolicy(_vm: VmContext): Promise<AttestationPolicyDocument> {
    const digest = await readFile(this.settings().firmware).catch(() => {
      throw new ManagerError('LAUNCH_MEASUREMENT_FAILED', 'the ref-tee firmware cannot be measured');
    });
    return {
      tee: this.name,
      environment: { vendor: 'Test', model: 'REF-TEE' },
      json: { measurement: digest.toString('base64') },
      measurements: [{ name: 'launch', digest: new Uint8Array(digest) }],
    };
  }

  protected settings() {
    return this.config.read(refTeeSettings).refTee;
  }
}

export function refTeePlugin(make: (config: ManagerConfig) => TeeBackend = (c) => new RefTee(c)) {
  return definePlugin({
    name: 'test-ref-tee',
    version: '0.0.0',
    coreVersionRange: '^0.1.0',
    configSchema: refTeeSettings,
    provides: [TEE_BACKEND],
    register(container) {
      container.register(TEE_BACKEND, { useFactory: instanceCachingFactory((c) => make(c.resolve<ManagerConfig>(CONFIG))) });
    },
  });
}

/** The conformance options for the backend `make` builds (the good one by default); `firmware` is a readable file. */
export function refTeeOptions(
  firmware: string,
  make?: (config: ManagerConfig) => TeeBackend,
  extra: Partial<TeeBackendConformanceOptions> = {},
): TeeBackendConformanceOptions {
  return {
    plugin: refTeePlugin(make),
    backendName: 'ref-tee',
    env: { TEST_REF_TEE_FIRMWARE: firmware },
    attestation: 'document',
    invalidEnv: { TEST_REF_TEE_FIRMWARE: '/nonexistent/ref-tee.fd' },
    ...extra,
  };
}
