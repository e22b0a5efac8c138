import { hex, MeasureError, MeasureErrorCode } from '../errors.js';
import { bytesToGuid, OvmfGuid } from './guid.js';

export const PAGE_SIZE = 4096;
const FOUR_GIB = 0x1_0000_0000;
/** The footer table ends this many bytes before the end of the image (the reset vector follows it). */
const FOOTER_GAP = 32;
/** An entry's trailer: its u16 length, then its GUID. */
const ENTRY_TRAILER = 18;

/**
 * An OVMF (or TDVF) image as QEMU maps it: ending at 4 GiB, with the GUIDed
 * footer table that edk2's reset vector carries just before its last 32
 * bytes. Entries are read from the footer backwards, each being its data,
 * then a u16 length (data + 18), then its GUID.
 */
export class FirmwareImage {
  /** Footer-table entries by GUID, or null when the image has no footer table. */
  readonly table: ReadonlyMap<string, Buffer> | null;

  constructor(
    readonly file: string,
    readonly data: Buffer,
  ) {
    this.table = parseFooterTable(file, data);
  }

  /** Where QEMU maps the image: it ends at 4 GiB. */
  get gpa(): number {
    return FOUR_GIB - this.data.length;
  }

  entry(guid: string): Buffer | undefined {
    return this.table?.get(guid);
  }

  /** A u32 read from the start of an entry's data, or undefined when the entry is absent. */
  entryU32(guid: string, index = 0): number | undefined {
    const data = this.entry(guid);
    if (data === undefined) return undefined;
    if (data.length < (index + 1) * 4) {
      throw this.error(MeasureErrorCode.BadFooterTable, `footer-table entry ${guid} holds ${data.length} bytes, fewer than the ${(index + 1) * 4} it needs`);
    }
    return data.readUInt32LE(index * 4);
  }

  /** Checks the image can be mapped below 4 GiB in whole pages, as an SEV launch needs. */
  requirePages(): void {
    if (this.data.length === 0 || this.data.length % PAGE_SIZE !== 0 || this.data.length > FOUR_GIB) {
      throw this.error(MeasureErrorCode.BadFirmwareSize, `size ${this.data.length} bytes is not a whole number of 4 KiB pages below 4 GiB`);
    }
  }

  /** The footer table, or an error saying there is none. */
  requireTable(what: string): ReadonlyMap<string, Buffer> {
    if (this.table === null) {
      throw this.error(
        MeasureErrorCode.NoFooterTable,
        `no OVMF footer table (GUID ${OvmfGuid.FooterTable} ${FOOTER_GAP} bytes before the end), so no ${what}: not an OVMF image built for SEV or TDX`,
      );
    }
    return this.table;
  }

  error(code: MeasureErrorCode, problem: string): MeasureError {
    return new MeasureError(code, this.file, problem);
  }

  /** A bounds-checked slice, or the given error. */
  slice(offset: number, length: number, code: MeasureErrorCode, what: string): Buffer {
    if (offset < 0 || length < 0 || offset + length > this.data.length) {
      throw this.error(code, `${what} at offset ${hex(offset)} (${length} bytes) lies outside the ${this.data.length}-byte image`);
    }
    return this.data.subarray(offset, offset + length);
  }
}

function parseFooterTable(file: string, data: Buffer): Map<string, Buffer> | null {
  const footerEnd = data.length - FOOTER_GAP;
  if (footerEnd < ENTRY_TRAILER) return null;
  if (bytesToGuid(data.subarray(footerEnd - 16, footerEnd)) !== OvmfGuid.FooterTable) return null;
  const tableLength = data.readUInt16LE(footerEnd - ENTRY_TRAILER) - ENTRY_TRAILER;
  const tableStart = footerEnd - ENTRY_TRAILER - tableLength;
  if (tableLength < 0 || tableStart < 0) {
    throw new MeasureError(MeasureErrorCode.BadFooterTable, file, `the footer table claims ${tableLength + ENTRY_TRAILER} bytes, more than the image holds`);
  }
  const table = new Map<string, Buffer>();
  let end = footerEnd - ENTRY_TRAILER;
  while (end - tableStart >= ENTRY_TRAILER) {
    const length = data.readUInt16LE(end - ENTRY_TRAILER);
    if (length < ENTRY_TRAILER || length > end - tableStart) {
      throw new MeasureError(
        MeasureErrorCode.BadFooterTable,
        file,
        `footer-table entry ending at offset ${hex(end)} has length ${length}, outside 18..${end - tableStart}`,
      );
    }
    table.set(bytesToGuid(data.subarray(end - 16, end)), data.subarray(end - length, end - ENTRY_TRAILER));
    end -= length;
  }
  return table;
}
