import { access, constants, copyFile, chmod } from 'node:fs/promises';
import { execa } from 'execa';
import {
  firmwareVersionOf,
  CONFIG,
  ConfigError,
  coreSettings,
  HostEnvironment,
  inject,
  injectable,
  ManagerError,
  PflashDrive,
  type AttestationPolicyDocument,
  type BackendSelection,
  type ManagerConfig,
  type ProbeResult,
  type QemuCommand,
  type TeeBackend,
  type VmContext,
} from '@cocos-manager/core';
import { probeKvm } from './kvm-probe.js';
import { plainSettings } from './settings.js';

const lastLine = (text: string): string => text.trim().split('\n').at(-1) ?? '';

/** The per-VM copy of the OVMF vars, inside the VM's directory. */
export const VARS_FILE_NAME = 'OVMF_VARS.fd';

/**
 * The last resort of auto-detection: any host with QEMU runs plain VMs, so it
 * is taken without probing once no confidential backend is available (start-up
 * still probes it, and says why when it cannot run).
 */
export const PLAIN_SELECTION: BackendSelection = { priority: 0, detect: 'fallback' };

/**
 * Non-confidential VMs: OVMF from two pflash drives (shared read-only code,
 * per-VM writable vars), KVM or TCG.
 */
@injectable()
export class PlainBackend implements TeeBackend {
  readonly name = 'plain';
  readonly selection = PLAIN_SELECTION;

  /** The EDK II release of MANAGER_QEMU_OVMF_CODE_FILE, read at start-up. */
  private firmware: string | null = null;

  constructor(@inject(CONFIG) private readonly config: ManagerConfig) {}

  async probe(host: HostEnvironment): Promise<ProbeResult> {
    const { binPath: qemu, enableKvm, useSudo } = this.config.read(coreSettings).qemu;
    const version = await execa(qemu, ['-version'], { reject: false, stdin: 'ignore' });
    if (version.exitCode !== 0) {
      return {
        available: false,
        reason: `MANAGER_QEMU_BIN_PATH=${JSON.stringify(qemu)} does not run (${lastLine(version.originalMessage ?? version.shortMessage ?? `exit status ${version.exitCode}`)}); install qemu-system-x86 or point the variable at the binary`,
      };
    }
    const qemuVersion = version.stdout.split('\n')[0] ?? 'QEMU';
    if (!enableKvm) return { available: true, reason: `${qemuVersion}, TCG emulation (MANAGER_QEMU_ENABLE_KVM=false)` };
    if (!(await this.hasKvmDevice(host))) {
      return {
        available: false,
        reason: 'MANAGER_QEMU_ENABLE_KVM=true but /dev/kvm is missing or not accessible; load kvm_intel/kvm_amd or set MANAGER_QEMU_ENABLE_KVM=false',
      };
    }
    const failure = await probeKvm({ qemuBinary: qemu, useSudo });
    if (failure !== null)
      return { available: false, reason: `MANAGER_QEMU_ENABLE_KVM=true but KVM does not work: ${failure}; set MANAGER_QEMU_ENABLE_KVM=false to use TCG` };
    return { available: true, reason: `${qemuVersion}, KVM` };
  }

  async validate(): Promise<void> {
    const { ovmfCode, ovmfVars } = this.settings();
    await requireReadable(ovmfCode.file, plainSettings.plain.ovmfCode.file.env);
    await requireReadable(ovmfVars.file, plainSettings.plain.ovmfVars.file.env);
    this.firmware = await firmwareVersionOf(ovmfCode.file);
  }

  firmwareVersion(): string | null {
    return this.firmware;
  }

  async prepare(vm: VmContext): Promise<void> {
    const vars = vm.file(VARS_FILE_NAME);
    await copyFile(this.settings().ovmfVars.file, vars);
    await chmod(vars, 0o600);
  }

  contribute(command: QemuCommand, vm: VmContext): void {
    const { ovmfCode, ovmfVars } = this.settings();
    command.add(
      new PflashDrive({ interface: ovmfCode.interface, format: ovmfCode.format, unit: ovmfCode.unit, file: ovmfCode.file, readonly: ovmfCode.readonly }),
      new PflashDrive({ interface: ovmfVars.interface, format: ovmfVars.format, unit: ovmfVars.unit, file: vm.file(VARS_FILE_NAME) }),
    );
  }

  async cleanup(): Promise<void> {
    // The vars copy lives in the VM's directory, which core removes.
  }

  async attestationPolicy(): Promise<AttestationPolicyDocument> {
    throw new ManagerError(
      'ATTESTATION_UNAVAILABLE',
      'plain VMs carry no attestation: there is no TEE measurement to verify (run a sev, sev-snp or tdx backend)',
    );
  }

  private async hasKvmDevice(host: HostEnvironment): Promise<boolean> {
    try {
      await access(`${host.rootDir.replace(/\/$/, '')}/dev/kvm`, constants.R_OK | constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  /** This plugin's own settings, typed. */
  private settings() {
    return this.config.read(plainSettings).plain;
  }
}

async function requireReadable(file: string, env: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new ConfigError(`${env}=${JSON.stringify(file)}: expected a readable file (install the ovmf package or point the variable at the firmware)`);
  }
}
