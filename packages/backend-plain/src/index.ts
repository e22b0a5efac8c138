import { definePlugin, Lifecycle, TEE_BACKEND } from '@cocos-manager/core';
import { PlainBackend } from './plain-backend.js';
import { plainSettings } from './settings.js';

export { PlainBackend, PLAIN_SELECTION, VARS_FILE_NAME } from './plain-backend.js';
export { buildProbeFirmware, probeKvm } from './kvm-probe.js';
export { plainSettings } from './settings.js';

export const PLUGIN_VERSION = '0.1.0';

/** The plain (non-confidential) TEE backend plugin. */
export const plainBackendPlugin = definePlugin({
  name: '@cocos-manager/backend-plain',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: plainSettings,
  provides: [TEE_BACKEND],
  register(container) {
    container.register(TEE_BACKEND, { useClass: PlainBackend }, { lifecycle: Lifecycle.Singleton });
  },
});

export default plainBackendPlugin;
