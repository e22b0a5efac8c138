import { readFile } from 'node:fs/promises';
import { ManagerError, type LaunchMeasurementRequest, type LaunchMeasurer, nodeCrypto } from '@cocos-manager/core';

const { createHash } = nodeCrypto;

/** What the PSP measures at launch: the firmware, the hashes table, and (SEV-ES) the VMSAs. */
export interface SevLaunch {
  readonly ovmf: string;
  readonly es: boolean;
  readonly vcpus: number;
  readonly vcpuType: string;
  /** Direct boot with kernel-hashes=on. */
  readonly kernel?: { readonly kernel: string; readonly initrd: string; readonly append: string };
}

/**
 * The SEV / SEV-ES launch measurement, computed by core's LAUNCH_MEASURER
 * (@cocos-manager/measure: modes sev and seves, SHA-256), and the firmware's
 * identity. Without a measurer (a custom build without @cocos-manager/measure)
 * there is no policy: SEV has no reference value to configure instead.
 */
export class SevMeasurement {
  constructor(private readonly measurer: LaunchMeasurer | null = null) {}

  async of(launch: SevLaunch): Promise<Buffer> {
    if (this.measurer === null) {
      throw new ManagerError(
        'LAUNCH_MEASUREMENT_FAILED',
        'the SEV launch measurement is computed by @cocos-manager/measure, which this build does not load: no SEV attestation policy',
      );
    }
    const request: LaunchMeasurementRequest = {
      mode: launch.es ? 'seves' : 'sev',
      ovmf: launch.ovmf,
      ...(launch.es ? { vcpus: launch.vcpus, vcpuType: launch.vcpuType } : {}),
      ...(launch.kernel ?? {}),
    };
    return Buffer.from((await this.measurer.measure(request)).digest);
  }

  /** sha256 of the firmware file: which OVMF build the measurement belongs to. */
  async firmwareSha256(ovmf: string): Promise<Buffer> {
    try {
      return createHash('sha256')
        .update(await readFile(ovmf))
        .digest();
    } catch (err) {
      throw new ManagerError('LAUNCH_MEASUREMENT_FAILED', 'the SEV firmware (OVMF code) is not readable', { detail: `${ovmf}: ${(err as Error).message}` });
    }
  }
}
