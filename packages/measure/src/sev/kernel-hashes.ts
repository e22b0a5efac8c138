import { guidToBytes } from '../firmware/guid.js';
import { PAGE_SIZE } from '../firmware/firmware-image.js';
import { nodeCrypto } from '@cocos-manager/core';

const { createHash } = nodeCrypto;

/** The GUIDs of QEMU's SEV hash table (target/i386/sev.c), as OVMF's BlobVerifier reads them. */
const TABLE_GUID = '9438d606-4f22-4cc9-b479-a793d411fd21';
const KERNEL_GUID = '4de79437-abd2-427f-b835-d5b172d2045b';
const INITRD_GUID = '44baf731-3a2f-4bd7-9af1-41e29169781d';
const CMDLINE_GUID = '97d02dd8-bd20-4c94-aa78-e7714d36ab2a';

/** GUID (16), u16 length, SHA-256 (32). */
const ENTRY_LENGTH = 16 + 2 + 32;
/** GUID (16), u16 length, then the cmdline, initrd and kernel entries. */
export const KERNEL_HASHES_TABLE_LENGTH = 16 + 2 + 3 * ENTRY_LENGTH;
/** QEMU pads the table to 16 bytes. */
export const KERNEL_HASHES_PADDED_LENGTH = Math.ceil(KERNEL_HASHES_TABLE_LENGTH / 16) * 16;

/** The SHA-256 digests direct kernel boot measures: of the kernel, the initrd (empty when none) and the NUL-terminated command line. */
export interface KernelHashes {
  readonly kernel: Buffer;
  readonly initrd: Buffer;
  readonly cmdline: Buffer;
}

/** The command line's digest as QEMU computes it: UTF-8 bytes and a terminating NUL (a lone NUL when empty). */
export function cmdlineDigest(append: string | undefined): Buffer {
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(append ?? '', 'utf8'), Buffer.of(0)]))
    .digest();
}

function entry(guid: string, digest: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16LE(ENTRY_LENGTH);
  return Buffer.concat([guidToBytes(guid), length, digest]);
}

/** The padded SEV hash table QEMU writes into guest memory for `-kernel` boot (and SEV/SEV-ES append to the digest). */
export function kernelHashesTable(hashes: KernelHashes): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16LE(KERNEL_HASHES_TABLE_LENGTH);
  const table = Buffer.concat([
    guidToBytes(TABLE_GUID),
    length,
    entry(CMDLINE_GUID, hashes.cmdline),
    entry(INITRD_GUID, hashes.initrd),
    entry(KERNEL_GUID, hashes.kernel),
  ]);
  return Buffer.concat([table, Buffer.alloc(KERNEL_HASHES_PADDED_LENGTH - table.length)]);
}

/** The 4 KiB page holding the table at its offset (SEV-SNP measures the whole page). */
export function kernelHashesPage(hashes: KernelHashes, offsetInPage: number): Buffer {
  const page = Buffer.alloc(PAGE_SIZE);
  kernelHashesTable(hashes).copy(page, offsetInPage);
  return page;
}
