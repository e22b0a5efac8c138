import path from 'node:path';
import {
  CONFIG,
  coreSettings,
  HOST,
  HostEnvironment,
  inject,
  injectable,
  MachineProperties,
  MemoryBackendMemfd,
  requireKvm,
  type AttestationPolicyDocument,
  type BackendSelection,
  type ManagerConfig,
  type ProbeResult,
  type QemuCommand,
  type TeeBackend,
  type VmContext,
} from '@cocos-manager/core';
import { decodeHostData } from './host-data.js';
import { probeSevSnpHost, snpProductLine } from './host-probe.js';
import { checkIgvmFile } from './igvm-file.js';
import { SnpLaunchDigest } from './launch-digest.js';
import { loadPcrValues } from './pcr-values.js';
import { sevSnpSettings } from './settings.js';
import { IgvmConfig, SevSnpGuest } from './sev-snp-guest.js';
import { buildSnpPolicy, type SnpProductLine } from './snp-policy.js';

/**
 * Auto-detection order: below TDX (a host that offers both runs TDX, as the
 * Go manager decides), above the non-confidential fallback.
 */
export const SEV_SNP_PRIORITY = 100;

/**
 * AMD SEV-SNP: memfd guest memory, a `sev-snp-guest` object, and an IGVM
 * image (COCONUT-SVSM vTPM + OVMF) instead of pflash firmware.
 */
@injectable()
export class SevSnpBackend implements TeeBackend {
  readonly name = 'sev-snp';

  constructor(
    @inject(CONFIG) private readonly config: ManagerConfig,
    @inject(HOST) private readonly host: HostEnvironment,
    /** Built by the plugin's factory with the LAUNCH_MEASURER, when one is loaded. */
    private readonly launchDigest: SnpLaunchDigest = new SnpLaunchDigest(config),
  ) {}

  get selection(): BackendSelection {
    const { enable } = sevSnpSettings.sevSnp;
    return { priority: SEV_SNP_PRIORITY, detect: 'probe', switch: { env: enable.env, value: this.settings().sevSnp.enable } };
  }

  async probe(host: HostEnvironment): Promise<ProbeResult> {
    return requireKvm(await probeSevSnpHost(host), this.config.read(coreSettings).qemu.enableKvm, 'SEV-SNP');
  }

  async validate(): Promise<void> {
    const { sevSnp } = this.settings();
    await checkIgvmFile(sevSnp.igvmFile);
    if (sevSnp.enableHostData) decodeHostData(sevSnp.hostData);
  }

  async prepare(): Promise<void> {}

  contribute(command: QemuCommand, vm: VmContext): void {
    const { sevSnp } = this.settings();
    const { qemu } = this.config.read(coreSettings);
    const guestId = `${sevSnp.id}-${vm.id}`;
    command.add(
      new MachineProperties([
        ['confidential-guest-support', guestId],
        ['memory-backend', qemu.memId],
        ['igvm-cfg', sevSnp.igvmId],
      ]),
      new MemoryBackendMemfd(qemu.memId, qemu.memorySize),
      new SevSnpGuest({
        id: guestId,
        cbitPos: sevSnp.cbitPos,
        reducedPhysBits: sevSnp.reducedPhysBits,
        ...(sevSnp.enableHostData ? { hostData: sevSnp.hostData } : {}),
      }),
      new IgvmConfig(sevSnp.igvmId, sevSnp.igvmFile),
    );
  }

  async cleanup(): Promise<void> {}

  async attestationPolicy(): Promise<AttestationPolicyDocument> {
    const { sevSnp, snpPolicy } = this.settings();
    const measurement = await this.launchDigest.of(sevSnp.igvmFile);
    const product: SnpProductLine = snpPolicy.product !== '' ? snpPolicy.product : ((await snpProductLine(this.host)) ?? 'Milan');
    return buildSnpPolicy({
      measurement,
      hostData: sevSnp.enableHostData ? decodeHostData(sevSnp.hostData) : null,
      policy: snpPolicy.policy,
      minimumLaunchTcb: snpPolicy.minimumLaunchTcb,
      vmpl: snpPolicy.vmpl,
      product,
      pcrValues: snpPolicy.pcrValues === '' ? null : await loadPcrValues(snpPolicy.pcrValues),
    });
  }

  /** MANAGER_IGVMMEASURE_BINARY, else igvmmeasure in MANAGER_ATTESTATION_POLICY_BINARY_PATH. */
  igvmMeasureBinary(): string {
    const { igvmMeasureBinary, binaryPath } = this.settings().snpPolicy;
    return igvmMeasureBinary !== '' ? igvmMeasureBinary : path.join(binaryPath, 'igvmmeasure');
  }

  /** This plugin's own settings, typed. */
  private settings() {
    return this.config.read(sevSnpSettings);
  }
}
