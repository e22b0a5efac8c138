import { CONFIG, definePlugin, instanceCachingFactory, LAUNCH_MEASURER, resolveOptionalToken, resolveToken, TEE_BACKEND } from '@cocos-manager/core';
import { SevBackend } from './sev-backend.js';
import { SevMeasurement } from './sev-measurement.js';
import { sevSettings } from './settings.js';

export { SevBackend, SEV_PRIORITY, VARS_FILE_NAME } from './sev-backend.js';
export { SevGuest } from './sev-guest.js';
export { probeSevHost } from './host-probe.js';
export { guestPolicy, SEV_POLICY_ES, SEV_POLICY_NODBG } from './guest-policy.js';
export { SevMeasurement, type SevLaunch } from './sev-measurement.js';
export { plainFirmware } from './plain-firmware.js';
export { buildSevPolicy, SEV_ENVIRONMENT, SEV_ES_ENVIRONMENT } from './sev-policy.js';
export { sevSettings } from './settings.js';

export const PLUGIN_VERSION = '0.1.0';

/** The AMD SEV / SEV-ES TEE backend plugin (seeds/002). */
export const sevBackendPlugin = definePlugin({
  name: '@cocos-manager/backend-sev',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: sevSettings,
  provides: [TEE_BACKEND],
  register(container) {
    // A factory: the launch measurer is optional (without it there is no SEV policy).
    container.register(TEE_BACKEND, {
      useFactory: instanceCachingFactory((c) => new SevBackend(resolveToken(c, CONFIG), new SevMeasurement(resolveOptionalToken(c, LAUNCH_MEASURER)))),
    });
  },
});

export default sevBackendPlugin;
