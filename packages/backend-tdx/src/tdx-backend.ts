import { access, constants } from 'node:fs/promises';
import {
  firmwareVersionOf,
  Bios,
  CONFIG,
  ConfigError,
  coreSettings,
  HostEnvironment,
  inject,
  injectable,
  MachineProperties,
  MemoryBackendMemfd,
  requireKvm,
  NoDefaults,
  QemuSection,
  type AttestationPolicyDocument,
  type BackendSelection,
  type ManagerConfig,
  type ProbeResult,
  type QemuCommand,
  type TeeBackend,
  type VmContext,
} from '@cocos-manager/core';
import { FirmwareMrtd } from './firmware-mrtd.js';
import { probeTdxHost } from './host-probe.js';
import { tdxSettings } from './settings.js';
import { TdxGuest } from './tdx-guest.js';
import { buildTdxPolicy } from './tdx-policy.js';

/**
 * Auto-detection order: first of the backends we ship (the Go manager checks
 * TDX before SEV-SNP), above SEV-SNP's 100 and the non-confidential fallback.
 */
export const TDX_PRIORITY = 200;

/** Intel TDX: a `tdx-guest` object with the QGS vsock, memfd memory, OVMF with -bios, no default devices. */
@injectable()
export class TdxBackend implements TeeBackend {
  readonly name = 'tdx';
  /** The EDK II release of the firmware file, read at start-up. */
  private firmware: string | null = null;

  constructor(
    @inject(CONFIG) private readonly config: ManagerConfig,
    /** Built by the plugin's factory with the LAUNCH_MEASURER, when one is loaded. */
    private readonly firmwareMrtd: FirmwareMrtd = new FirmwareMrtd(),
  ) {}

  get selection(): BackendSelection {
    const { enable } = tdxSettings.tdx;
    return { priority: TDX_PRIORITY, detect: 'probe', switch: { env: enable.env, value: this.settings().tdx.enable } };
  }

  async probe(host: HostEnvironment): Promise<ProbeResult> {
    return requireKvm(await probeTdxHost(host), this.config.read(coreSettings).qemu.enableKvm, 'TDX');
  }

  async validate(): Promise<void> {
    const file = this.settings().tdx.ovmfFile;
    try {
      await access(file, constants.R_OK);
    } catch {
      throw new ConfigError(`MANAGER_QEMU_OVMF_FILE=${JSON.stringify(file)}: expected a readable OVMF image built for TDX`);
    }
    await this.attestationPolicy(); // the expected-measurement settings are consistent
    this.firmware = await firmwareVersionOf(file);
  }

  firmwareVersion(): string | null {
    return this.firmware;
  }

  async prepare(): Promise<void> {}

  contribute(command: QemuCommand, vm: VmContext): void {
    const { tdx } = this.settings();
    const { qemu } = this.config.read(coreSettings);
    const tdxId = `${tdx.id}-${vm.id}`;
    command.add(
      new TdxGuest(tdxId, tdx.quoteGenerationPort),
      new MachineProperties([
        ['confidential-guest-support', tdxId],
        ['memory-backend', qemu.memId],
        ['hpet', 'off'],
      ]),
      new MemoryBackendMemfd(qemu.memId, qemu.memorySize),
      new Bios(tdx.ovmfFile, QemuSection.Confidential),
      new NoDefaults(QemuSection.Confidential),
    );
  }

  async cleanup(): Promise<void> {}

  async attestationPolicy(): Promise<AttestationPolicyDocument> {
    const { tdxPolicy: p, tdx } = this.settings();
    return buildTdxPolicy({
      mrSeam: p.mrSeam,
      tdAttributes: p.tdAttributes,
      xfam: p.xfam,
      mrTd: await this.firmwareMrtd.of(tdx.ovmfFile, p.mrTd),
      rtmrs: [p.rtmr0, p.rtmr1, p.rtmr2, p.rtmr3],
    });
  }

  /** This plugin's own settings, typed. */
  private settings() {
    return this.config.read(tdxSettings);
  }
}
