/**
 * An example third-party TEE backend, written against @cocos-manager/core's
 * published API only: fast, non-confidential development VMs on QEMU's
 * `microvm` machine — no PCI firmware, direct kernel boot, about half the
 * boot time of q35 + OVMF under TCG.
 *
 * Load it into the stock binary with:
 *   MANAGER_PLUGINS=cocos-manager-backend-microvm MANAGER_TEE_BACKEND=microvm MANAGER_QEMU_MACHINE=microvm cocos-manager
 */
import { access, constants } from 'node:fs/promises';
import {
  CONFIG,
  ConfigError,
  coreSettings,
  definePlugin,
  formats as f,
  inject,
  injectable,
  Lifecycle,
  MachineProperties,
  ManagerError,
  setting,
  TEE_BACKEND,
  type AttestationPolicyDocument,
  type HostFiles,
  type ManagerConfig,
  type ProbeResult,
  type QemuCommand,
  type TeeBackend,
} from '@cocos-manager/core';

export const microvmSettings = {
  microvm: {
    bios: setting({
      env: 'MICROVM_QBOOT_FILE',
      doc: 'The microvm firmware (qboot) QEMU loads by default; checked at start.',
      default: '/usr/share/seabios/bios-microvm.bin',
      format: f.nonEmptyText,
    }),
  },
};

@injectable()
export class MicrovmBackend implements TeeBackend {
  readonly name = 'microvm';
  private tscKhz: number | undefined;

  constructor(@inject(CONFIG) private readonly config: ManagerConfig) {}

  async probe(host: HostFiles): Promise<ProbeResult> {
    const { machine, enableKvm } = this.config.read(coreSettings).qemu;
    this.tscKhz = enableKvm ? undefined : hostTscKhz(await host.readText('/proc/cpuinfo'));
    if (machine !== 'microvm') {
      return { available: false, reason: `the microvm backend needs MANAGER_QEMU_MACHINE=microvm (it is ${machine})` };
    }
    return { available: true, reason: 'QEMU microvm machine' };
  }

  async validate(): Promise<void> {
    const { machine } = this.config.read(coreSettings).qemu;
    if (machine !== 'microvm') {
      throw new ConfigError(`MANAGER_QEMU_MACHINE=${JSON.stringify(machine)}: expected microvm with MANAGER_TEE_BACKEND=microvm`);
    }
    const { bios } = this.config.read(microvmSettings).microvm;
    try {
      await access(bios, constants.R_OK);
    } catch {
      throw new ConfigError(`MICROVM_QBOOT_FILE=${JSON.stringify(bios)}: expected QEMU's microvm firmware (Debian package seabios)`);
    }
  }

  /**
   * microvm has no HPET and no ACPI PM timer. Under KVM the guest reads its
   * TSC rate from kvmclock; under TCG it must calibrate against the PIT,
   * which fails on a busy host ("tsc: Unable to calibrate against PIT") and
   * leaves a stock kernel hung before /init. TCG's guest TSC is the host's,
   * so the host's rate, given up front, skips that calibration.
   */
  kernelParameters(): readonly string[] {
    return this.tscKhz === undefined ? [] : [`tsc_early_khz=${this.tscKhz}`];
  }

  async prepare(): Promise<void> {}

  contribute(command: QemuCommand): void {
    // The manager's virtio devices are PCI: give microvm a PCIe host bridge,
    // and the legacy timers and ACPI a stock kernel needs to boot under TCG.
    command.add(
      new MachineProperties([
        ['pcie', 'on'],
        ['acpi', 'on'],
        ['pit', 'on'],
        ['pic', 'on'],
        ['rtc', 'on'],
      ]),
    );
  }

  async cleanup(): Promise<void> {}

  async attestationPolicy(): Promise<AttestationPolicyDocument> {
    throw new ManagerError('ATTESTATION_UNAVAILABLE', 'microvm development VMs carry no attestation');
  }
}

/** The host CPU's rate in kHz from /proc/cpuinfo; 2 GHz when it names none (the guest only needs the right order of magnitude). */
export function hostTscKhz(cpuinfo: string | undefined): number {
  const mhz = Number(/^cpu MHz\s*:\s*([0-9.]+)$/m.exec(cpuinfo ?? '')?.[1]);
  return Number.isFinite(mhz) && mhz > 0 ? Math.round(mhz * 1000) : 2_000_000;
}

export const plugin = definePlugin({
  name: 'cocos-manager-backend-microvm',
  version: '0.1.0',
  coreVersionRange: '^0.1.0',
  configSchema: microvmSettings,
  provides: [TEE_BACKEND],
  register(container) {
    container.register(TEE_BACKEND, { useClass: MicrovmBackend }, { lifecycle: Lifecycle.Singleton });
  },
});

export default plugin;
