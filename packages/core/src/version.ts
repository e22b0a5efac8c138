/** The version of @cocos-manager/core; plugins declare the range of it they support. Kept equal to package.json by a test. */
export const CORE_VERSION = '0.1.0';
