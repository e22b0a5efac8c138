import { access, constants, copyFile, chmod } from 'node:fs/promises';
import { execa } from 'execa';
import {
  CONFIG,
  ConfigError,
  HostEnvironment,
  inject,
  injectable,
  ManagerError,
  PflashDrive,
  type AttestationPolicyDocument,
  type ManagerConfig,
  type ProbeResult,
  type QemuCommand,
  type TeeBackend,
  type VmContext,
} from '@cocos-manager/core';
import { probeKvm } from './kvm-probe.js';

const lastLine = (text: string): string => text.trim().split('\n').at(-1) ?? '';

/** The per-VM copy of the OVMF vars, inside the VM's directory. */
export const VARS_FILE_NAME = 'OVMF_VARS.fd';

/**
 * Non-confidential VMs: OVMF from two pflash drives (shared read-only code,
 * per-VM writable vars), KVM or TCG.
 */
@injectable()
export class PlainBackend implements TeeBackend {
  readonly name = 'plain';

  constructor(@inject(CONFIG) private readonly config: ManagerConfig) {}

  async probe(host: HostEnvironment): Promise<ProbeResult> {
    const qemu = this.config.get<string>('qemu.binPath');
    const version = await execa(qemu, ['-version'], { reject: false, stdin: 'ignore' });
    if (version.exitCode !== 0) {
      return { available: false, reason: `MANAGER_QEMU_BIN_PATH=${JSON.stringify(qemu)} does not run (${lastLine(version.originalMessage ?? version.shortMessage ?? `exit status ${version.exitCode}`)}); install qemu-system-x86 or point the variable at the binary` };
    }
    const qemuVersion = version.stdout.split('\n')[0] ?? 'QEMU';
    if (!this.config.get<boolean>('qemu.enableKvm')) return { available: true, reason: `${qemuVersion}, TCG emulation (MANAGER_QEMU_ENABLE_KVM=false)` };
    if (!(await this.hasKvmDevice(host))) {
      return { available: false, reason: 'MANAGER_QEMU_ENABLE_KVM=true but /dev/kvm is missing or not accessible; load kvm_intel/kvm_amd or set MANAGER_QEMU_ENABLE_KVM=false' };
    }
    const failure = await probeKvm({ qemuBinary: qemu, useSudo: this.config.get<boolean>('qemu.useSudo') });
    if (failure !== null) return { available: false, reason: `MANAGER_QEMU_ENABLE_KVM=true but KVM does not work: ${failure}; set MANAGER_QEMU_ENABLE_KVM=false to use TCG` };
    return { available: true, reason: `${qemuVersion}, KVM` };
  }

  async validate(): Promise<void> {
    await this.requireReadable('plain.ovmfCode.file', 'MANAGER_QEMU_OVMF_CODE_FILE');
    await this.requireReadable('plain.ovmfVars.file', 'MANAGER_QEMU_OVMF_VARS_FILE');
  }

  async prepare(vm: VmContext): Promise<void> {
    const vars = vm.file(VARS_FILE_NAME);
    await copyFile(this.config.get<string>('plain.ovmfVars.file'), vars);
    await chmod(vars, 0o600);
  }

  contribute(command: QemuCommand, vm: VmContext): void {
    const c = this.config;
    command.add(
      new PflashDrive({
        interface: c.get<string>('plain.ovmfCode.interface'),
        format: c.get<string>('plain.ovmfCode.format'),
        unit: c.get<number>('plain.ovmfCode.unit'),
        file: c.get<string>('plain.ovmfCode.file'),
        readonly: c.get<string>('plain.ovmfCode.readonly'),
      }),
      new PflashDrive({
        interface: c.get<string>('plain.ovmfVars.interface'),
        format: c.get<string>('plain.ovmfVars.format'),
        unit: c.get<number>('plain.ovmfVars.unit'),
        file: vm.file(VARS_FILE_NAME),
      }),
    );
  }

  async cleanup(): Promise<void> {
    // The vars copy lives in the VM's directory, which core removes.
  }

  async attestationPolicy(): Promise<AttestationPolicyDocument> {
    throw ManagerError.failedPrecondition('plain VMs carry no attestation: there is no TEE measurement to verify (run a sev-snp or tdx backend)');
  }

  private async hasKvmDevice(host: HostEnvironment): Promise<boolean> {
    try {
      await access(`${host.rootDir.replace(/\/$/, '')}/dev/kvm`, constants.R_OK | constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  private async requireReadable(key: string, env: string): Promise<void> {
    const file = this.config.get<string>(key);
    try {
      await access(file, constants.R_OK);
    } catch {
      throw new ConfigError(`${env}=${JSON.stringify(file)}: expected a readable file (install the ovmf package or point the variable at the firmware)`);
    }
  }
}
