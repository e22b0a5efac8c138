import { access, chmod, constants, copyFile } from 'node:fs/promises';
import {
  firmwareVersionOf,
  CONFIG,
  ConfigError,
  coreSettings,
  HostEnvironment,
  inject,
  injectable,
  MachineProperties,
  PflashDrive,
  requireKvm,
  type AttestationPolicyDocument,
  type BackendSelection,
  type ManagerConfig,
  type ProbeResult,
  type QemuCommand,
  type TeeBackend,
  type VmContext,
} from '@cocos-manager/core';
import { guestPolicy, QEMU_DEFAULT_POLICY } from './guest-policy.js';
import { probeSevHost } from './host-probe.js';
import { plainFirmware } from './plain-firmware.js';
import { sevSettings } from './settings.js';
import { SevGuest } from './sev-guest.js';
import { SevMeasurement } from './sev-measurement.js';
import { buildSevPolicy } from './sev-policy.js';

/**
 * Auto-detection order: below SEV-SNP's 100 (a host that runs SNP runs SNP
 * guests), above the non-confidential fallback.
 */
export const SEV_PRIORITY = 50;

/** The per-VM copy of the OVMF vars, inside the VM's directory (the plain backend's name). */
export const VARS_FILE_NAME = 'OVMF_VARS.fd';

/**
 * AMD SEV / SEV-ES as the Go manager ran it (seeds/002): the plain OVMF pflash
 * drives, a `sev-guest` object and `-machine memory-encryption=<id>`.
 */
@injectable()
export class SevBackend implements TeeBackend {
  readonly name = 'sev';
  /** The EDK II release of the firmware file, read at start-up. */
  private firmware: string | null = null;

  constructor(
    @inject(CONFIG) private readonly config: ManagerConfig,
    /** Built by the plugin's factory with the LAUNCH_MEASURER, when one is loaded. */
    private readonly measurement: SevMeasurement = new SevMeasurement(),
  ) {}

  get selection(): BackendSelection {
    const { enable } = sevSettings.sev;
    return { priority: SEV_PRIORITY, detect: 'probe', switch: { env: enable.env, value: this.settings().enable } };
  }

  async probe(host: HostEnvironment): Promise<ProbeResult> {
    const es = this.settings().enableEs;
    return requireKvm(await probeSevHost(host, es), this.config.read(coreSettings).qemu.enableKvm, es ? 'SEV-ES' : 'SEV');
  }

  async validate(): Promise<void> {
    const { code, vars } = plainFirmware(this.config);
    await requireReadable(code.file, 'MANAGER_QEMU_OVMF_CODE_FILE');
    await requireReadable(vars.file, 'MANAGER_QEMU_OVMF_VARS_FILE');
    this.policy();
    this.firmware = await firmwareVersionOf(code.file);
  }

  firmwareVersion(): string | null {
    return this.firmware;
  }

  async prepare(vm: VmContext): Promise<void> {
    const vars = vm.file(VARS_FILE_NAME);
    await copyFile(plainFirmware(this.config).vars.file, vars);
    await chmod(vars, 0o600);
  }

  contribute(command: QemuCommand, vm: VmContext): void {
    const sev = this.settings();
    const { code, vars } = plainFirmware(this.config);
    const policy = this.policy();
    command.add(
      new PflashDrive({ interface: code.interface, format: code.format, unit: code.unit, file: code.file, readonly: code.readonly }),
      new PflashDrive({ interface: vars.interface, format: vars.format, unit: vars.unit, file: vm.file(VARS_FILE_NAME) }),
      new SevGuest({
        id: sev.id,
        cbitPos: sev.cbitPos,
        reducedPhysBits: sev.reducedPhysBits,
        ...(policy !== QEMU_DEFAULT_POLICY ? { policy } : {}),
        kernelHashes: sev.kernelHash,
      }),
      new MachineProperties([['memory-encryption', sev.id]]),
    );
  }

  async cleanup(): Promise<void> {
    // The vars copy lives in the VM's directory, which core removes.
  }

  async attestationPolicy(): Promise<AttestationPolicyDocument> {
    const sev = this.settings();
    const { qemu } = this.config.read(coreSettings);
    const ovmf = plainFirmware(this.config).code.file;
    const launch = {
      ovmf,
      es: sev.enableEs,
      vcpus: qemu.smpCount,
      vcpuType: qemu.cpu,
      ...(sev.kernelHash ? { kernel: { kernel: qemu.kernelFile, initrd: qemu.rootfsFile, append: qemu.kernelCmdline } } : {}),
    };
    return buildSevPolicy({
      measurement: await this.measurement.of(launch),
      policy: this.policy(),
      es: sev.enableEs,
      vcpus: qemu.smpCount,
      vcpuType: qemu.cpu,
      kernelHashes: sev.kernelHash,
      firmwareFile: ovmf,
      firmwareSha256: await this.measurement.firmwareSha256(ovmf),
    });
  }

  private policy(): number {
    const sev = this.settings();
    return guestPolicy(sev.policy, sev.enableEs);
  }

  /** This plugin's own settings, typed. */
  private settings() {
    return this.config.read(sevSettings).sev;
  }
}

async function requireReadable(file: string, env: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new ConfigError(`${env}=${JSON.stringify(file)}: expected a readable file (install the ovmf package or point the variable at the firmware)`);
  }
}
