import { definePlugin, Lifecycle, TRANSPORT, VM_SERVICE } from '@cocos-manager/core';
import { HttpTransport } from './http-transport.js';
import { httpSettings } from './settings.js';

export { HttpTransport } from './http-transport.js';
export { httpSettings } from './settings.js';
export { fromFastifyRefusal, toHttpError, type HttpFailure } from './http-status.js';
export { createRequestFromJson, MAX_CREATE_BODY_BYTES } from './rest-body.js';
export { BrowserPolicy, hostOf, operationOf } from './request-policy.js';

export const PLUGIN_VERSION = '0.1.0';

/** The HTTP transport plugin: MANAGER_HTTP_HOST:MANAGER_HTTP_PORT (localhost:7003). */
export const httpTransportPlugin = definePlugin({
  name: '@cocos-manager/transport-http',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: httpSettings,
  provides: [TRANSPORT],
  requires: [VM_SERVICE],
  register(container) {
    container.register(TRANSPORT, { useClass: HttpTransport }, { lifecycle: Lifecycle.Singleton });
  },
});

export default httpTransportPlugin;
