import { definePlugin, HTTP_PAGES } from '@cocos-manager/core';
import { ConsolePages } from './console-pages.js';
import { webConsoleSettings } from './settings.js';

export { ConsolePages, CONTENT_SECURITY_POLICY, UI_DIR } from './console-pages.js';
export { webConsoleSettings } from './settings.js';

export const PLUGIN_VERSION = '0.1.0';

/**
 * The operator web console at /console/ of the HTTP transport. Its pages are
 * a `mayProvide`: it contributes them only when MANAGER_HTTP_CONSOLE_ENABLE is
 * on, and nothing requires them.
 */
export const webConsolePlugin = definePlugin({
  name: '@cocos-manager/web-console',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: webConsoleSettings,
  mayProvide: [HTTP_PAGES],
  register(container, config) {
    if (!config.read(webConsoleSettings).webConsole.enable) return;
    container.register(HTTP_PAGES, { useValue: new ConsolePages() });
  },
});

export default webConsolePlugin;
