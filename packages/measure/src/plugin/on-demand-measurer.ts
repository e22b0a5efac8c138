import type { LaunchMeasurement, LaunchMeasurementRequest, LaunchMeasurer, Logger } from '@cocos-manager/core';

/**
 * The native measurer, loaded at the first measurement: a manager whose
 * backend measures nothing (plain QEMU, the default) does not carry the
 * engine's code (~0.8 MiB of its idle RSS, measured in BENCHMARKS.md).
 */
export class OnDemandMeasurer implements LaunchMeasurer {
  private engine: Promise<LaunchMeasurer> | null = null;

  constructor(private readonly logger: Logger | null) {}

  async measure(request: LaunchMeasurementRequest): Promise<LaunchMeasurement> {
    return (await this.loaded()).measure(request);
  }

  /** The engine, once loaded; a load that failed is tried again by the next measurement. */
  loaded(): Promise<LaunchMeasurer> {
    this.engine ??= import('./native-measurer.js').then(
      ({ NativeLaunchMeasurer }) => new NativeLaunchMeasurer(this.logger),
      (err: unknown) => {
        this.engine = null;
        throw err;
      },
    );
    return this.engine;
  }
}
