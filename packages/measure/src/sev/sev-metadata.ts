import { hex, MeasureErrorCode } from '../errors.js';
import { PAGE_SIZE, type FirmwareImage } from '../firmware/firmware-image.js';
import { OvmfGuid } from '../firmware/guid.js';

/** SEV metadata section types (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm). */
export const SevSectionType = { SecMem: 1, Secrets: 2, Cpuid: 3, SvsmCaa: 4, KernelHashes: 0x10 } as const;
export type SevSectionType = (typeof SevSectionType)[keyof typeof SevSectionType];
const KNOWN_TYPES = new Set<number>(Object.values(SevSectionType));

export interface SevSection {
  readonly gpa: number;
  readonly size: number;
  readonly type: SevSectionType;
}

const HEADER = 16;
const ITEM = 12;

/**
 * The SEV metadata sections an SEV-SNP launch pre-validates, in firmware
 * order: the footer-table entry gives the header's offset from the end of the
 * image; the header is "ASEV", its size, version 1 and the section count,
 * then (gpa u32, size u32, type u32) per section.
 */
export function sevMetadata(image: FirmwareImage): SevSection[] {
  image.requireTable('SEV metadata');
  const offsetFromEnd = image.entryU32(OvmfGuid.SevMetadata);
  if (offsetFromEnd === undefined) {
    throw image.error(MeasureErrorCode.NoSevMetadata, `no SEV metadata (footer-table entry ${OvmfGuid.SevMetadata}): not an OVMF built for SEV-SNP`);
  }
  const start = image.data.length - offsetFromEnd;
  const header = image.slice(start, HEADER, MeasureErrorCode.BadSevMetadata, 'the SEV metadata header');
  const signature = header.subarray(0, 4).toString('latin1');
  if (signature !== 'ASEV') throw image.error(MeasureErrorCode.BadSevMetadata, `SEV metadata signature is ${JSON.stringify(signature)}, expected "ASEV"`);
  const version = header.readUInt32LE(8);
  if (version !== 1) throw image.error(MeasureErrorCode.BadSevMetadata, `SEV metadata version ${version}, expected 1`);
  const count = header.readUInt32LE(12);
  const size = header.readUInt32LE(4);
  if (size < HEADER + count * ITEM) {
    throw image.error(MeasureErrorCode.BadSevMetadata, `SEV metadata size ${size} is too small for its ${count} sections`);
  }
  const items = image.slice(start + HEADER, count * ITEM, MeasureErrorCode.BadSevMetadata, `the ${count} SEV metadata sections`);
  const sections: SevSection[] = [];
  for (let i = 0; i < count; i += 1) {
    const gpa = items.readUInt32LE(i * ITEM);
    const length = items.readUInt32LE(i * ITEM + 4);
    const type = items.readUInt32LE(i * ITEM + 8);
    if (!KNOWN_TYPES.has(type)) throw image.error(MeasureErrorCode.BadSevMetadata, `SEV metadata section ${i} has unknown type ${hex(type)}`);
    if (gpa % PAGE_SIZE !== 0 || length % PAGE_SIZE !== 0 || length === 0) {
      throw image.error(MeasureErrorCode.BadSevMetadata, `SEV metadata section ${i} (gpa ${hex(gpa)}, size ${hex(length)}) is not whole 4 KiB pages`);
    }
    sections.push({ gpa, size: length, type: type as SevSectionType });
  }
  return sections;
}

/** The SEV-ES AP reset EIP, which the APs' VMSAs start at. */
export function sevEsResetEip(image: FirmwareImage): number {
  image.requireTable('SEV-ES AP reset block');
  const eip = image.entryU32(OvmfGuid.SevEsResetBlock);
  if (eip === undefined) {
    throw image.error(
      MeasureErrorCode.NoResetBlock,
      `no SEV-ES AP reset block (footer-table entry ${OvmfGuid.SevEsResetBlock}): not an OVMF built for SEV-ES or SEV-SNP`,
    );
  }
  return eip;
}

/** The SEV hash table's guest address and size, or null when the firmware has none (absent or zero). */
export function sevHashTable(image: FirmwareImage): { gpa: number; size: number } | null {
  const gpa = image.entryU32(OvmfGuid.SevHashTableBlock);
  if (gpa === undefined || gpa === 0) return null;
  return { gpa, size: image.entryU32(OvmfGuid.SevHashTableBlock, 1) ?? 0 };
}
