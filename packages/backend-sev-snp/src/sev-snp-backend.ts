import path from 'node:path';
import {
  CONFIG,
  HOST,
  HostEnvironment,
  inject,
  injectable,
  MachineProperties,
  MemoryBackendMemfd,
  requireKvm,
  type AttestationPolicyDocument,
  type ManagerConfig,
  type ProbeResult,
  type QemuCommand,
  type TeeBackend,
  type VmContext,
} from '@cocos-manager/core';
import { decodeHostData } from './host-data.js';
import { probeSevSnpHost, snpProductLine } from './host-probe.js';
import { checkIgvmFile } from './igvm-file.js';
import { measureIgvm } from './igvm-measure.js';
import { loadPcrValues } from './pcr-values.js';
import { IgvmConfig, SevSnpGuest } from './sev-snp-guest.js';
import { buildSnpPolicy, type SnpProductLine } from './snp-policy.js';

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
  ) {}

  async probe(host: HostEnvironment): Promise<ProbeResult> {
    return requireKvm(await probeSevSnpHost(host), this.config.get<boolean>('qemu.enableKvm'), 'SEV-SNP');
  }

  async validate(): Promise<void> {
    await checkIgvmFile(this.config.get<string>('sevSnp.igvmFile'));
    if (this.config.get<boolean>('sevSnp.enableHostData')) decodeHostData(this.config.get<string>('sevSnp.hostData'));
  }

  async prepare(): Promise<void> {}

  contribute(command: QemuCommand, vm: VmContext): void {
    const c = this.config;
    const guestId = `${c.get<string>('sevSnp.id')}-${vm.id}`;
    const memId = c.get<string>('qemu.memId');
    const igvmId = c.get<string>('sevSnp.igvmId');
    command.add(
      new MachineProperties([
        ['confidential-guest-support', guestId],
        ['memory-backend', memId],
        ['igvm-cfg', igvmId],
      ]),
      new MemoryBackendMemfd(memId, c.get<string>('qemu.memorySize')),
      new SevSnpGuest({
        id: guestId,
        cbitPos: c.get<number>('sevSnp.cbitPos'),
        reducedPhysBits: c.get<number>('sevSnp.reducedPhysBits'),
        ...(c.get<boolean>('sevSnp.enableHostData') ? { hostData: c.get<string>('sevSnp.hostData') } : {}),
      }),
      new IgvmConfig(igvmId, c.get<string>('sevSnp.igvmFile')),
    );
  }

  async cleanup(): Promise<void> {}

  async attestationPolicy(): Promise<AttestationPolicyDocument> {
    const c = this.config;
    const measurement = await measureIgvm(this.igvmMeasureBinary(), c.get<string>('sevSnp.igvmFile'));
    const pcrFile = c.get<string>('snpPolicy.pcrValues');
    const configured = c.get<string>('snpPolicy.product');
    const product: SnpProductLine = configured !== '' ? (configured as SnpProductLine) : ((await snpProductLine(this.host)) ?? 'Milan');
    return buildSnpPolicy({
      measurement,
      hostData: c.get<boolean>('sevSnp.enableHostData') ? decodeHostData(c.get<string>('sevSnp.hostData')) : null,
      policy: c.get<string>('snpPolicy.policy'),
      minimumLaunchTcb: c.get<string>('snpPolicy.minimumLaunchTcb'),
      vmpl: c.get<number>('snpPolicy.vmpl'),
      product,
      pcrValues: pcrFile === '' ? null : await loadPcrValues(pcrFile),
    });
  }

  /** MANAGER_IGVMMEASURE_BINARY, else igvmmeasure in MANAGER_ATTESTATION_POLICY_BINARY_PATH. */
  igvmMeasureBinary(): string {
    const explicit = this.config.get<string>('snpPolicy.igvmMeasureBinary');
    return explicit !== '' ? explicit : path.join(this.config.get<string>('snpPolicy.binaryPath'), 'igvmmeasure');
  }
}
