import { ConfigError } from '@cocos-manager/core';

export const HOST_DATA_BYTES = 32;

/** Checks SEV-SNP host data: base64 of exactly 32 bytes. Returns the bytes. */
export function decodeHostData(value: string): Buffer {
  const bytes = /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? Buffer.from(value, 'base64') : null;
  if (!bytes || bytes.length !== HOST_DATA_BYTES || bytes.toString('base64') !== value) {
    throw new ConfigError(
      `MANAGER_QEMU_HOST_DATA=${JSON.stringify(value)}: expected base64 of exactly ${HOST_DATA_BYTES} bytes (44 characters ending in '='), as MANAGER_QEMU_ENABLE_HOST_DATA=true requires`,
    );
  }
  return bytes;
}
