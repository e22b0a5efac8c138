import {
  CONFIG,
  definePlugin,
  HOST,
  instanceCachingFactory,
  LAUNCH_MEASURER,
  LOGGER,
  resolveOptionalToken,
  resolveToken,
  TEE_BACKEND,
  type HostEnvironment,
} from '@cocos-manager/core';
import { SnpLaunchDigest } from './launch-digest.js';
import { SevSnpBackend } from './sev-snp-backend.js';
import { sevSnpSettings } from './settings.js';

export { SevSnpBackend, SEV_SNP_PRIORITY } from './sev-snp-backend.js';
export { SevSnpGuest, IgvmConfig } from './sev-snp-guest.js';
export { probeSevSnpHost, snpProductLine, cpuFlags } from './host-probe.js';
export { checkIgvmFile } from './igvm-file.js';
export { measureIgvm, LAUNCH_DIGEST_BYTES } from './igvm-measure.js';
export { SnpLaunchDigest } from './launch-digest.js';
export { loadPcrValues, type PcrValues } from './pcr-values.js';
export { buildSnpPolicy, SNP_ENVIRONMENT } from './snp-policy.js';
export { decodeHostData } from './host-data.js';
export { sevSnpSettings } from './settings.js';

export const PLUGIN_VERSION = '0.1.0';

/** The AMD SEV-SNP (IGVM) TEE backend plugin. */
export const sevSnpBackendPlugin = definePlugin({
  name: '@cocos-manager/backend-sev-snp',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: sevSnpSettings,
  provides: [TEE_BACKEND],
  register(container) {
    // A factory: the launch measurer is optional (a build without @cocos-manager/measure falls back to igvmmeasure).
    container.register(TEE_BACKEND, {
      useFactory: instanceCachingFactory((c) => {
        const config = resolveToken(c, CONFIG);
        const digest = new SnpLaunchDigest(config, resolveOptionalToken(c, LAUNCH_MEASURER), resolveToken(c, LOGGER));
        return new SevSnpBackend(config, resolveToken(c, HOST) as HostEnvironment, digest);
      }),
    });
  },
});

export default sevSnpBackendPlugin;
