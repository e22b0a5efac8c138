import { definePlugin, HTTP_PAGES } from '@cocos-manager/core';
import { ConsolePages } from './console-pages.js';
import { webConsoleSettings } from './settings.js';

export { ConsolePages, CONTENT_SECURITY_POLICY, UI_DIR } from './console-pages.js';
export { webConsoleSettings } from './settings.js';

export const PLUGIN_VERSION = '0.1.0';

/**
 * The operator web console at /console/ of the HTTP transport. It declares no
 * `provides`: it contributes its pages only when MANAGER_HTTP_CONSOLE_ENABLE is
 * on, and nothing needs it.
 */
export const webConsolePlugin = definePlugin({
  name: '@cocos-manager/web-console',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: webConsoleSettings,
  register(container, config) {
    if (!config.read(webConsoleSettings).webConsole.enable) return;
    container.register(HTTP_PAGES, { useValue: new ConsolePages() });
  },
});

export default webConsolePlugin;
