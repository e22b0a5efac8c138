import type { Hash } from 'node:crypto';
import type { FirmwareImage } from '../firmware/firmware-image.js';
import { PAGE_SIZE } from '../firmware/firmware-image.js';
import { TdvfAttribute, tdvfMetadata, type TdvfSection } from './tdvf-metadata.js';
import { nodeCrypto } from '@cocos-manager/core';

const { createHash } = nodeCrypto;

/**
 * The order in which pages are added and extended. `single-pass`: each page
 * is added, then its 256-byte chunks extended (KVM's KVM_TDX_INIT_MEM_REGION
 * since Linux 6.16, QEMU 10). `two-pass`: a section's pages are all added
 * before any is extended (the earlier TDX host stacks).
 */
export type TdxPageAddOrder = 'single-pass' | 'two-pass';

const EXTEND_CHUNK = 256;
const BUFFER = 128;

/** The 128-byte buffer TDH.MEM.PAGE.ADD / TDH.MR.EXTEND extend MRTD with: the operation's name, then the GPA at byte 16. */
function operation(hash: Hash, name: string, gpa: number, buffer: Buffer): void {
  buffer.fill(0);
  buffer.write(name, 0, 'latin1');
  buffer.writeBigUInt64LE(BigInt(gpa), 16);
  hash.update(buffer);
}

/**
 * MRTD of a TD booting this TDVF image: SHA-384 over one MEM.PAGE.ADD per
 * page of every section (but PAGE_AUG ones) and, for MR_EXTEND sections, one
 * MR.EXTEND per 256-byte chunk followed by the chunk's bytes.
 */
export function measureTdxMrtd(image: FirmwareImage, order: TdxPageAddOrder = 'single-pass'): Buffer {
  const hash = createHash('sha384');
  const buffer = Buffer.alloc(BUFFER);
  const add = (s: TdvfSection, page: number) => {
    if ((s.attributes & TdvfAttribute.PageAug) === 0) operation(hash, 'MEM.PAGE.ADD', s.memoryAddress + page * PAGE_SIZE, buffer);
  };
  const extend = (s: TdvfSection, page: number) => {
    if ((s.attributes & TdvfAttribute.MrExtend) === 0) return;
    for (let chunk = page * PAGE_SIZE; chunk < (page + 1) * PAGE_SIZE; chunk += EXTEND_CHUNK) {
      operation(hash, 'MR.EXTEND', s.memoryAddress + chunk, buffer);
      hash.update(image.data.subarray(s.dataOffset + chunk, s.dataOffset + chunk + EXTEND_CHUNK));
    }
  };
  for (const section of tdvfMetadata(image)) {
    const pages = section.memoryDataSize / PAGE_SIZE;
    if (order === 'single-pass') {
      for (let page = 0; page < pages; page += 1) {
        add(section, page);
        extend(section, page);
      }
    } else {
      for (let page = 0; page < pages; page += 1) add(section, page);
      for (let page = 0; page < pages; page += 1) extend(section, page);
    }
  }
  return hash.digest();
}
