import { access, constants } from 'node:fs/promises';
import {
  Bios,
  CONFIG,
  ConfigError,
  HostEnvironment,
  inject,
  injectable,
  MachineProperties,
  MemoryBackendMemfd,
  requireKvm,
  NoDefaults,
  QemuSection,
  type AttestationPolicyDocument,
  type ManagerConfig,
  type ProbeResult,
  type QemuCommand,
  type TeeBackend,
  type VmContext,
} from '@cocos-manager/core';
import { probeTdxHost } from './host-probe.js';
import { TdxGuest } from './tdx-guest.js';
import { buildTdxPolicy } from './tdx-policy.js';

/** Intel TDX: a `tdx-guest` object with the QGS vsock, memfd memory, OVMF with -bios, no default devices. */
@injectable()
export class TdxBackend implements TeeBackend {
  readonly name = 'tdx';

  constructor(@inject(CONFIG) private readonly config: ManagerConfig) {}

  async probe(host: HostEnvironment): Promise<ProbeResult> {
    return requireKvm(await probeTdxHost(host), this.config.get<boolean>('qemu.enableKvm'), 'TDX');
  }

  async validate(): Promise<void> {
    const file = this.config.get<string>('tdx.ovmfFile');
    try {
      await access(file, constants.R_OK);
    } catch {
      throw new ConfigError(`MANAGER_QEMU_OVMF_FILE=${JSON.stringify(file)}: expected a readable OVMF image built for TDX`);
    }
    await this.attestationPolicy(); // the expected-measurement settings are consistent
  }

  async prepare(): Promise<void> {}

  contribute(command: QemuCommand, vm: VmContext): void {
    const c = this.config;
    const tdxId = `${c.get<string>('tdx.id')}-${vm.id}`;
    const memId = c.get<string>('qemu.memId');
    command.add(
      new TdxGuest(tdxId, c.get<number>('tdx.quoteGenerationPort')),
      new MachineProperties([
        ['confidential-guest-support', tdxId],
        ['memory-backend', memId],
        ['hpet', 'off'],
      ]),
      new MemoryBackendMemfd(memId, c.get<string>('qemu.memorySize')),
      new Bios(c.get<string>('tdx.ovmfFile'), QemuSection.Confidential),
      new NoDefaults(QemuSection.Confidential),
    );
  }

  async cleanup(): Promise<void> {}

  async attestationPolicy(): Promise<AttestationPolicyDocument> {
    const c = this.config;
    return buildTdxPolicy({
      mrSeam: c.get<string>('tdxPolicy.mrSeam'),
      tdAttributes: c.get<string>('tdxPolicy.tdAttributes'),
      xfam: c.get<string>('tdxPolicy.xfam'),
      mrTd: c.get<string>('tdxPolicy.mrTd'),
      rtmrs: [c.get<string>('tdxPolicy.rtmr0'), c.get<string>('tdxPolicy.rtmr1'), c.get<string>('tdxPolicy.rtmr2'), c.get<string>('tdxPolicy.rtmr3')],
    });
  }
}
