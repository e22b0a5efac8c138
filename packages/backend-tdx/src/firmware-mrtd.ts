import { ConfigError, ManagerError, type LaunchMeasurer, type Logger } from '@cocos-manager/core';

/**
 * The MRTD of the TDX policy: computed from the firmware the TD boots
 * (LAUNCH_MEASURER) unless MANAGER_MRTD gives it; when both exist they must
 * agree, or start-up stops. Without a measurer (a custom build without
 * @cocos-manager/measure), MANAGER_MRTD alone, as before.
 */
export class FirmwareMrtd {
  constructor(
    private readonly measurer: LaunchMeasurer | null = null,
    private readonly logger: Logger | null = null,
  ) {}

  /** The MRTD as hex ('' when neither a measurer nor MANAGER_MRTD gives one). */
  async of(ovmfFile: string, configured: string): Promise<string> {
    if (this.measurer === null) return configured;
    let computed: string;
    try {
      computed = Buffer.from((await this.measurer.measure({ mode: 'tdx', ovmf: ovmfFile })).digest).toString('hex');
    } catch (err) {
      const why = (err as Error).message;
      if (configured === '') {
        throw new ManagerError(
          'LAUNCH_MEASUREMENT_FAILED',
          `MANAGER_QEMU_OVMF_FILE=${JSON.stringify(ovmfFile)}: cannot compute the TDX MRTD (${why}); set MANAGER_MRTD to give it`,
        );
      }
      this.logger?.warn({ ovmf: ovmfFile }, `cannot check MANAGER_MRTD against the firmware, using it as given: ${why}`);
      return configured;
    }
    if (configured !== '' && configured !== computed) {
      throw new ConfigError(
        `MANAGER_MRTD=${configured} does not match the MRTD of MANAGER_QEMU_OVMF_FILE=${JSON.stringify(ovmfFile)}, computed from its TDVF metadata: ${computed} (unset MANAGER_MRTD to use the computed value, or fix the firmware path)`,
      );
    }
    return computed;
  }
}
