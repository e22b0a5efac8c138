/** The version of @cocos-manager/core; plugins declare the range of it they support. Kept equal to package.json by a test. */
export const CORE_VERSION = '0.1.0';

/**
 * Where this build came from, for health endpoints: COCOS_MANAGER_COMMIT and
 * COCOS_MANAGER_BUILD_TIME when a packager sets them, else `na` (the Go
 * manager's value for unknown build data).
 */
export const BUILD_INFO = {
  commit: process.env['COCOS_MANAGER_COMMIT'] || 'na',
  buildTime: process.env['COCOS_MANAGER_BUILD_TIME'] || 'na',
} as const;
