import { formats as f, setting } from '@cocos-manager/core';

export const webConsoleSettings = {
  webConsole: {
    enable: setting({
      env: 'MANAGER_HTTP_CONSOLE_ENABLE',
      doc: 'Serve the operator web console at /console/ on the HTTP transport. Its pages are public files; everything they show comes from the API, with its authentication and roles.',
      default: 'true',
      format: f.boolean,
    }),
  },
};
