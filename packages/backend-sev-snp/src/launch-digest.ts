import path from 'node:path';
import { ManagerError, type LaunchMeasurer, type Logger, type ManagerConfig } from '@cocos-manager/core';
import { measureIgvm, UNMEASURED } from './igvm-measure.js';
import { MeasurementCache } from './measurement-cache.js';
import { sevSnpSettings } from './settings.js';

/**
 * Where the SNP policy's launch digest comes from: computed natively from the
 * IGVM file (LAUNCH_MEASURER, igvmmeasure's default zero-page rule) unless
 * the operator configured an igvmmeasure binary — then igvmmeasure's answer
 * is used and cross-checked against the native one (a warning on mismatch).
 * Without a measurer (a custom build without @cocos-manager/measure),
 * igvmmeasure at its default place, as before.
 */
export class SnpLaunchDigest {
  /** igvmmeasure's answers by file and tool identity: one process at a time, not one per call. */
  private readonly external = new MeasurementCache(measureIgvm);

  constructor(
    private readonly config: ManagerConfig,
    private readonly measurer: LaunchMeasurer | null = null,
    private readonly logger: Logger | null = null,
  ) {}

  /** The configured igvmmeasure: MANAGER_IGVMMEASURE_BINARY, or igvmmeasure in an explicitly set MANAGER_ATTESTATION_POLICY_BINARY_PATH. */
  configuredBinary(): string | null {
    const { igvmMeasureBinary, binaryPath } = this.config.read(sevSnpSettings).snpPolicy;
    if (igvmMeasureBinary !== '') return igvmMeasureBinary;
    return binaryPath !== sevSnpSettings.snpPolicy.binaryPath.default ? path.join(binaryPath, 'igvmmeasure') : null;
  }

  async of(igvmFile: string): Promise<Buffer> {
    const binary = this.configuredBinary();
    if (this.measurer === null) {
      const { binaryPath } = this.config.read(sevSnpSettings).snpPolicy;
      return this.external.get(binary ?? path.join(binaryPath, 'igvmmeasure'), igvmFile);
    }
    if (binary === null) return this.native(igvmFile);
    const external = await this.external.get(binary, igvmFile);
    await this.crossCheck(igvmFile, binary, external);
    return external;
  }

  /** The native digest; a failure's client message names no host path (the detail, for the operator, does). */
  private async native(igvmFile: string): Promise<Buffer> {
    try {
      return Buffer.from((await (this.measurer as LaunchMeasurer).measure({ mode: 'snp', igvm: igvmFile })).digest);
    } catch (err) {
      if (err instanceof ManagerError) throw err;
      throw new ManagerError('LAUNCH_MEASUREMENT_FAILED', `${UNMEASURED}: the file is not a measurable IGVM file`, { detail: (err as Error).message });
    }
  }

  private async crossCheck(igvmFile: string, binary: string, external: Buffer): Promise<void> {
    let native: Buffer;
    try {
      native = Buffer.from((await (this.measurer as LaunchMeasurer).measure({ mode: 'snp', igvm: igvmFile })).digest);
    } catch (err) {
      this.logger?.warn({ igvm: igvmFile, igvmmeasure: binary }, `cannot cross-check igvmmeasure's launch digest natively: ${(err as Error).message}`);
      return;
    }
    if (!native.equals(external)) {
      this.logger?.warn(
        { igvm: igvmFile, igvmmeasure: binary, igvmmeasureDigest: external.toString('hex'), nativeDigest: native.toString('hex') },
        "igvmmeasure and the native measurement disagree on the IGVM launch digest; the policy carries igvmmeasure's (MANAGER_IGVMMEASURE_BINARY is set)",
      );
    }
  }
}
