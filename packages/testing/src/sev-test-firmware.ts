// A small, deterministic firmware image laid out as OVMF lays out the parts an
// SEV / SEV-SNP launch measurement reads: the GUIDed footer table 32 bytes
// before the end, the SEV-ES AP reset block, the SEV hash table block and the
// "ASEV" SEV metadata with its sections (edk2 OvmfPkg/ResetVector). Debian 12's
// OVMF.fd has no KERNEL_HASHES section, so the kernel-hashes vectors are taken
// on this image; tests rebuild it and check its sha256 before comparing.

/** A GUID as its 16 bytes in EFI (mixed-endian) order. */
export function guidBytes(guid: string): Buffer {
  const hex = guid.replaceAll('-', '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a GUID: ${guid}`);
  const raw = Buffer.from(hex, 'hex');
  return Buffer.concat([
    Buffer.from(raw.subarray(0, 4)).reverse(),
    Buffer.from(raw.subarray(4, 6)).reverse(),
    Buffer.from(raw.subarray(6, 8)).reverse(),
    raw.subarray(8),
  ]);
}

export const FOOTER_TABLE_GUID = '96b582de-1fb2-45f7-baea-a366c55a082d';
export const SEV_ES_RESET_BLOCK_GUID = '00f771de-1a7e-4fcb-890e-68c77e2fb44e';
export const SEV_HASH_TABLE_BLOCK_GUID = '7255371f-3a3b-4b04-927b-1da6efa8d454';
export const SEV_METADATA_GUID = 'dc886566-984a-4798-a75e-5585a7bf67cc';

/** SEV metadata section types (OvmfSevMetadata.asm). */
export const SevSection = { SecMem: 1, Secrets: 2, Cpuid: 3, SvsmCaa: 4, KernelHashes: 0x10 } as const;

export interface SevTestSection {
  readonly gpa: number;
  readonly size: number;
  readonly type: number;
}

export interface SevTestFirmwareOptions {
  /** Image size in bytes (a multiple of 4096). */
  readonly size?: number;
  readonly sections?: readonly SevTestSection[];
  /** The SEV hash table block (gpa, size), or null for none. */
  readonly hashTable?: { readonly gpa: number; readonly size: number } | null;
  /** The SEV-ES AP reset EIP, or null for no reset block. */
  readonly resetEip?: number | null;
  /** Metadata header signature and version (to build broken images). */
  readonly metadataSignature?: string;
  readonly metadataVersion?: number;
  /** Leave out the footer table altogether. */
  readonly noFooter?: boolean;
}

/** The sections of the committed kernel-hashes vectors' firmware. */
export const SEV_TEST_SECTIONS: readonly SevTestSection[] = [
  { gpa: 0x800000, size: 0x3000, type: SevSection.SecMem },
  { gpa: 0x803000, size: 0x1000, type: SevSection.Secrets },
  { gpa: 0x804000, size: 0x1000, type: SevSection.Cpuid },
  { gpa: 0x805000, size: 0x1000, type: SevSection.KernelHashes },
  { gpa: 0x806000, size: 0x1000, type: SevSection.SvsmCaa },
  { gpa: 0x807000, size: 0x2000, type: SevSection.SecMem },
];

/** Where the metadata header sits, counted back from the end of the image. */
const METADATA_OFFSET_FROM_END = 0x800;

/** One footer-table entry: its data, then its u16 length (data + 18), then its GUID. */
function tableEntry(guid: string, data: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16LE(data.length + 18);
  return Buffer.concat([data, length, guidBytes(guid)]);
}

const u32s = (...values: number[]) => {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32LE(v >>> 0, i * 4));
  return out;
};

/** Builds the image. The defaults are the committed vectors' firmware. */
export function buildSevTestFirmware(options: SevTestFirmwareOptions = {}): Buffer {
  const size = options.size ?? 0x10000;
  const image = Buffer.alloc(size);
  // Deterministic contents that differ from page to page and are never all zero.
  for (let i = 0; i < size; i += 1) image[i] = ((i * 7) ^ (i >>> 8) ^ 0x5a) & 0xff;

  const sections = options.sections ?? SEV_TEST_SECTIONS;
  const header = Buffer.concat([
    Buffer.from(options.metadataSignature ?? 'ASEV', 'latin1'),
    u32s(16 + sections.length * 12, options.metadataVersion ?? 1, sections.length),
    ...sections.map((s) => u32s(s.gpa, s.size, s.type)),
  ]);
  header.copy(image, size - METADATA_OFFSET_FROM_END);
  if (options.noFooter) return image;

  const hashTable = options.hashTable === undefined ? { gpa: 0x805c00, size: 0x400 } : options.hashTable;
  const resetEip = options.resetEip === undefined ? 0x81c004 : options.resetEip;
  const entries = [
    tableEntry(SEV_METADATA_GUID, u32s(METADATA_OFFSET_FROM_END)),
    ...(hashTable ? [tableEntry(SEV_HASH_TABLE_BLOCK_GUID, u32s(hashTable.gpa, hashTable.size))] : []),
    ...(resetEip !== null ? [tableEntry(SEV_ES_RESET_BLOCK_GUID, u32s(resetEip))] : []),
  ];
  const table = Buffer.concat(entries);
  const footerLength = Buffer.alloc(2);
  footerLength.writeUInt16LE(table.length + 18);
  const footer = Buffer.concat([table, footerLength, guidBytes(FOOTER_TABLE_GUID)]);
  footer.copy(image, size - 32 - footer.length);
  return image;
}

/** Deterministic stand-ins for a kernel and an initrd (their sha256 is committed with the vectors). */
export function testBootFile(name: 'kernel' | 'initrd', length: number): Buffer {
  const seed = Buffer.from(`cocos-manager measure test ${name}\n`, 'latin1');
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) out[i] = (seed[i % seed.length] as number) ^ ((i >>> 10) & 0xff);
  return out;
}
