import { BOOT_STRATEGY, definePlugin, Lifecycle } from '@cocos-manager/core';
import { DiskBootStrategy } from './disk-boot.js';
import { diskSettings } from './settings.js';

export { DiskBootStrategy } from './disk-boot.js';
export { perVmDiskSize, GIB } from './sizing.js';
export { imageInfo, createOverlay, createCopy, type ImageInfo } from './qemu-img.js';
export { diskSettings, PROVISIONING_MODES, type ProvisioningMode } from './settings.js';

export const PLUGIN_VERSION = '0.1.0';

/** Disk-backed boot (MANAGER_QEMU_ENABLE_DISK=true). */
export const storageDiskPlugin = definePlugin({
  name: '@cocos-manager/storage-disk',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: diskSettings,
  provides: [BOOT_STRATEGY],
  register(container) {
    container.register(BOOT_STRATEGY, { useClass: DiskBootStrategy }, { lifecycle: Lifecycle.Singleton });
  },
});

export default storageDiskPlugin;
