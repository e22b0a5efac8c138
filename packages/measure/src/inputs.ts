import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { MeasureError, MeasureErrorCode } from './errors.js';
import { cmdlineDigest, type KernelHashes } from './sev/kernel-hashes.js';
import { nodeCrypto } from '@cocos-manager/core';

const { createHash } = nodeCrypto;

const why = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** A whole input file, or an error naming it. */
export async function readInput(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new MeasureError(MeasureErrorCode.Unreadable, file, `cannot read the ${what} (${why(err)})`);
  }
}

/** SHA-256 of a file, streamed (an initrd can be large). */
export async function sha256OfFile(file: string, what: string): Promise<Buffer> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (err) {
    throw new MeasureError(MeasureErrorCode.Unreadable, file, `cannot read the ${what} (${why(err)})`);
  }
  return hash.digest();
}

/** The kernel-hashes digests of a direct kernel boot, as QEMU computes them for `-kernel/-initrd/-append`. */
export async function kernelHashesOf(kernel: string, initrd: string | undefined, append: string | undefined): Promise<KernelHashes> {
  return {
    kernel: await sha256OfFile(kernel, 'kernel'),
    initrd: initrd === undefined ? createHash('sha256').digest() : await sha256OfFile(initrd, 'initrd'),
    cmdline: cmdlineDigest(append),
  };
}
