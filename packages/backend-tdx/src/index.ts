import { CONFIG, definePlugin, instanceCachingFactory, LAUNCH_MEASURER, LOGGER, resolveOptionalToken, resolveToken, TEE_BACKEND } from '@cocos-manager/core';
import { FirmwareMrtd } from './firmware-mrtd.js';
import { TdxBackend } from './tdx-backend.js';
import { tdxSettings } from './settings.js';

export { TdxBackend, TDX_PRIORITY } from './tdx-backend.js';
export { TdxGuest } from './tdx-guest.js';
export { probeTdxHost } from './host-probe.js';
export { FirmwareMrtd } from './firmware-mrtd.js';
export { buildTdxPolicy, TDX_ENVIRONMENT } from './tdx-policy.js';
export { tdxSettings } from './settings.js';

export const PLUGIN_VERSION = '0.1.0';

/** The Intel TDX TEE backend plugin. */
export const tdxBackendPlugin = definePlugin({
  name: '@cocos-manager/backend-tdx',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: tdxSettings,
  provides: [TEE_BACKEND],
  register(container) {
    // A factory: the launch measurer is optional (without it, MANAGER_MRTD alone gives the MRTD).
    container.register(TEE_BACKEND, {
      useFactory: instanceCachingFactory(
        (c) => new TdxBackend(resolveToken(c, CONFIG), new FirmwareMrtd(resolveOptionalToken(c, LAUNCH_MEASURER), resolveToken(c, LOGGER))),
      ),
    });
  },
});

export default tdxBackendPlugin;
