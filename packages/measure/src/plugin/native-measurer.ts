import { ManagerError, type LaunchMeasurement, type LaunchMeasurementRequest, type LaunchMeasurer, type Logger } from '@cocos-manager/core';
import { MeasureError } from '../errors.js';
import { measureLaunch, type MeasureOptions, type MeasureResult } from '../measure.js';
import { MeasurementCache } from './measurement-cache.js';

/** The engine behind core's LAUNCH_MEASURER: cached per file identity and request, warnings logged once per computation. */
export class NativeLaunchMeasurer implements LaunchMeasurer {
  private readonly cache = new MeasurementCache<MeasureResult>();
  /** Computations actually run (not answered from the cache), for tests and diagnostics. */
  computations = 0;

  constructor(private readonly logger: Logger | null) {}

  async measure(request: LaunchMeasurementRequest): Promise<LaunchMeasurement> {
    // measureLaunch checks the mode and every option before reading a file.
    const options = request as MeasureOptions;
    const files = [request.ovmf, request.igvm, request.kernel, request.initrd].filter((f): f is string => f !== undefined);
    const parameters = JSON.stringify(request, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
    const result = await this.cache.get(files, parameters, async () => {
      this.computations += 1;
      try {
        const computed = await measureLaunch(options);
        for (const warning of computed.warnings) this.logger?.warn({ files, mode: request.mode }, `launch measurement: ${warning}`);
        return computed;
      } catch (err) {
        if (err instanceof MeasureError) throw new ManagerError('LAUNCH_MEASUREMENT_FAILED', err.message, { cause: err });
        throw err;
      }
    });
    return { digest: result.digest, warnings: result.warnings };
  }
}
