import { open } from 'node:fs/promises';
import { ConfigError } from '@cocos-manager/core';

/** An IGVM file starts with the fixed header's magic, the ASCII bytes "IGVM". */
const IGVM_MAGIC = Buffer.from('IGVM', 'ascii');

/** Start-time check of MANAGER_QEMU_IGVM_FILE: exists, readable, really IGVM. */
export async function checkIgvmFile(file: string): Promise<void> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new ConfigError(
      `MANAGER_QEMU_IGVM_FILE=${JSON.stringify(file)}: expected a readable IGVM file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead < 4 || !head.equals(IGVM_MAGIC)) {
      throw new ConfigError(
        `MANAGER_QEMU_IGVM_FILE=${JSON.stringify(file)}: expected an IGVM file, but it does not start with the "IGVM" magic (found ${JSON.stringify(head.subarray(0, bytesRead).toString('latin1'))})`,
      );
    }
  } finally {
    await handle.close();
  }
}
