// The plugin alone (`@cocos-manager/measure/plugin`): what the manager loads at
// start. The engine is imported by the measurer at its first measurement.
import { definePlugin, instanceCachingFactory, LAUNCH_MEASURER, LOGGER, resolveToken } from '@cocos-manager/core';
import { OnDemandMeasurer } from './on-demand-measurer.js';

export const PLUGIN_VERSION = '0.1.0';

/** Provides LAUNCH_MEASURER: the SEV-SNP and TDX backends compute their policies' digests with it. */
export const measurePlugin = definePlugin({
  name: '@cocos-manager/measure',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  provides: [LAUNCH_MEASURER],
  register(container) {
    container.register(LAUNCH_MEASURER, { useFactory: instanceCachingFactory((c) => new OnDemandMeasurer(resolveToken(c, LOGGER))) });
  },
});

export default measurePlugin;
