import { PAGE_SIZE } from '../firmware/firmware-image.js';
import { nodeCrypto } from '@cocos-manager/core';

const { createHash } = nodeCrypto;

/** SEV-SNP page types of SNP_LAUNCH_UPDATE (SNP firmware ABI, PAGE_INFO). */
export const SnpPageType = { Normal: 1, Vmsa: 2, Zero: 3, Unmeasured: 4, Secrets: 5, Cpuid: 6 } as const;
export type SnpPageType = (typeof SnpPageType)[keyof typeof SnpPageType];

/** KVM gives every VMSA the guest address (u64)-1, page-aligned with the bits above 51 clear. */
export const VMSA_GPA = 0xffff_ffff_f000;

const DIGEST = 48;
const PAGE_INFO_LENGTH = 0x70;
const ZEROS = Buffer.alloc(DIGEST);
const sha384 = (data: Uint8Array) => createHash('sha384').update(data).digest();

/**
 * The SEV-SNP launch digest: each page added is a PAGE_INFO (the digest so
 * far, the page's contents digest, length 0x70, page type, IMI flag, VMPL
 * permissions, guest address) whose SHA-384 becomes the new digest. Only
 * normal and VMSA pages have a contents digest; the others measure zeros.
 */
export class PageInfoChain {
  private digestSoFar: Buffer;
  private readonly pageInfo = Buffer.alloc(PAGE_INFO_LENGTH);

  constructor(seed: Buffer = ZEROS) {
    this.digestSoFar = Buffer.from(seed);
  }

  /** One PAGE_INFO. VMPL permissions and the IMI flag stay zero, as QEMU/KVM launch. */
  add(type: SnpPageType, gpa: number, contents: Buffer = ZEROS): void {
    const info = this.pageInfo;
    this.digestSoFar.copy(info, 0);
    contents.copy(info, DIGEST);
    info.writeUInt16LE(PAGE_INFO_LENGTH, 96);
    info[98] = type;
    info.fill(0, 99, 104);
    info.writeBigUInt64LE(BigInt(gpa), 104);
    this.digestSoFar = sha384(info);
  }

  /** Normal pages of `data` (whole pages) from `gpa` on. */
  addNormal(gpa: number, data: Buffer): void {
    for (let offset = 0; offset < data.length; offset += PAGE_SIZE) {
      this.add(SnpPageType.Normal, gpa + offset, sha384(data.subarray(offset, offset + PAGE_SIZE)));
    }
  }

  /** `length` bytes of pages of one contents-less type (zero, unmeasured, secrets, CPUID). */
  addEmpty(type: SnpPageType, gpa: number, length = PAGE_SIZE): void {
    for (let offset = 0; offset < length; offset += PAGE_SIZE) this.add(type, gpa + offset);
  }

  addVmsa(page: Buffer, gpa: number = VMSA_GPA): void {
    this.add(SnpPageType.Vmsa, gpa, sha384(page));
  }

  digest(): Buffer {
    return Buffer.from(this.digestSoFar);
  }
}
