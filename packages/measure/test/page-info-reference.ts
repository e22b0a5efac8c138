// The SEV-SNP launch digest written from the SNP firmware ABI specification
// (SNP_LAUNCH_UPDATE, PAGE_INFO: DIGEST_CUR[48], CONTENTS[48], LENGTH u16 =
// 0x70, PAGE_TYPE u8, IMI_PAGE u8, VMPL3/2/1 permissions u8 each, reserved,
// GPA u64; the new digest is SHA-384 of the structure), for expected values
// of the directive tests. It is not the engine's code.
import { createHash } from 'node:crypto';

export const PageKind = { normal: 1, vmsa: 2, zero: 3, unmeasured: 4, secrets: 5, cpuid: 6 } as const;
export interface ReferencePage {
  readonly kind: keyof typeof PageKind;
  readonly gpa: number;
  /** Normal and VMSA pages: the page's bytes. */
  readonly bytes?: Buffer;
}

export function snpDigestReference(pages: readonly ReferencePage[]): string {
  let current = new Uint8Array(48);
  for (const page of pages) {
    const info = new Uint8Array(0x70);
    const view = new DataView(info.buffer);
    info.set(current, 0);
    if (page.kind === 'normal' || page.kind === 'vmsa')
      info.set(
        createHash('sha384')
          .update(page.bytes ?? Buffer.alloc(4096))
          .digest(),
        48,
      );
    view.setUint16(96, 0x70, true);
    view.setUint8(98, PageKind[page.kind]);
    view.setBigUint64(104, BigInt(page.gpa), true);
    current = createHash('sha384').update(info).digest();
  }
  return Buffer.from(current).toString('hex');
}

/** `count` pages of one kind from `gpa` on. */
export const run = (kind: ReferencePage['kind'], gpa: number, count: number, bytes?: Buffer): ReferencePage[] =>
  Array.from({ length: count }, (_, i) => ({ kind, gpa: gpa + i * 4096, ...(bytes ? { bytes } : {}) }));
