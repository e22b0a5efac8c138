import { hex, MeasureErrorCode } from '../errors.js';
import { PAGE_SIZE, type FirmwareImage } from '../firmware/firmware-image.js';
import { OvmfGuid } from '../firmware/guid.js';

/** TDVF section attributes (TDVF design guide, "TDVF metadata"). */
export const TdvfAttribute = { MrExtend: 0x1, PageAug: 0x2 } as const;

/** One TDVF metadata section: where its bytes are in the image, where they go in the TD, how they are added. */
export interface TdvfSection {
  readonly dataOffset: number;
  readonly rawDataSize: number;
  readonly memoryAddress: number;
  readonly memoryDataSize: number;
  /** 0 BFV, 1 CFV, 2 TD_HOB, 3 TempMem, 4 PermMem, 5 Payload, 6 PayloadParam… */
  readonly type: number;
  readonly attributes: number;
}

const DESCRIPTOR = 16;
const SECTION = 32;

/**
 * The TDVF metadata of an image (edk2 IntelTdxMetadata.asm): the footer-table
 * entry gives the descriptor's offset from the end; the descriptor is "TDVF",
 * its length, version 1 and the section count, then 32 bytes per section.
 */
export function tdvfMetadata(image: FirmwareImage): TdvfSection[] {
  image.requireTable('TDVF metadata');
  const offsetFromEnd = image.entryU32(OvmfGuid.TdxMetadata);
  if (offsetFromEnd === undefined) {
    throw image.error(MeasureErrorCode.NoTdvfMetadata, `no TDVF metadata (footer-table entry ${OvmfGuid.TdxMetadata}): not an OVMF built for TDX`);
  }
  const start = image.data.length - offsetFromEnd;
  const descriptor = image.slice(start, DESCRIPTOR, MeasureErrorCode.BadTdvfMetadata, 'the TDVF descriptor');
  const signature = descriptor.subarray(0, 4).toString('latin1');
  if (signature !== 'TDVF') throw image.error(MeasureErrorCode.BadTdvfMetadata, `TDVF descriptor signature is ${JSON.stringify(signature)}, expected "TDVF"`);
  const version = descriptor.readUInt32LE(8);
  if (version !== 1) throw image.error(MeasureErrorCode.BadTdvfMetadata, `TDVF metadata version ${version}, expected 1`);
  const count = descriptor.readUInt32LE(12);
  if (descriptor.readUInt32LE(4) < DESCRIPTOR + count * SECTION) {
    throw image.error(MeasureErrorCode.BadTdvfMetadata, `TDVF descriptor length ${descriptor.readUInt32LE(4)} is too small for its ${count} sections`);
  }
  const table = image.slice(start + DESCRIPTOR, count * SECTION, MeasureErrorCode.BadTdvfMetadata, `the ${count} TDVF sections`);
  return Array.from({ length: count }, (_, i) => checkSection(image, i, table.subarray(i * SECTION, (i + 1) * SECTION)));
}

function checkSection(image: FirmwareImage, index: number, raw: Buffer): TdvfSection {
  const u64 = (at: number) => {
    const value = raw.readBigUInt64LE(at);
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw image.error(MeasureErrorCode.BadTdvfMetadata, `TDVF section ${index} has address or size ${hex(value)} beyond 2^53`);
    return Number(value);
  };
  const section: TdvfSection = {
    dataOffset: raw.readUInt32LE(0),
    rawDataSize: raw.readUInt32LE(4),
    memoryAddress: u64(8),
    memoryDataSize: u64(16),
    type: raw.readUInt32LE(24),
    attributes: raw.readUInt32LE(28),
  };
  const fail = (problem: string) => image.error(MeasureErrorCode.BadTdvfMetadata, `TDVF section ${index} (type ${section.type}): ${problem}`);
  if (section.memoryAddress % PAGE_SIZE !== 0) throw fail(`memory address ${hex(section.memoryAddress)} is not 4 KiB aligned`);
  if (section.memoryDataSize % PAGE_SIZE !== 0) throw fail(`memory size ${hex(section.memoryDataSize)} is not a multiple of 4 KiB`);
  if (section.rawDataSize > section.memoryDataSize)
    throw fail(`raw data size ${hex(section.rawDataSize)} exceeds its memory size ${hex(section.memoryDataSize)}`);
  if ((section.attributes & ~(TdvfAttribute.MrExtend | TdvfAttribute.PageAug)) !== 0) throw fail(`unknown attributes ${hex(section.attributes)}`);
  // An extended section is measured over its whole memory size, read from the image at its data offset.
  const extent = section.attributes & TdvfAttribute.MrExtend ? section.memoryDataSize : section.rawDataSize;
  if (section.dataOffset + extent > image.data.length) throw fail(`data at ${hex(section.dataOffset)} (${hex(extent)} bytes) lies outside the image`);
  return section;
}
