import { crc32 } from 'node:zlib';
import { hex, MeasureError, MeasureErrorCode } from '../errors.js';
import {
  DIRECTIVE_RANGE,
  FIXED_HEADER_V1,
  FIXED_HEADER_V2,
  HEADER_LENGTH,
  HeaderType,
  IGVM_MAGIC,
  INIT_RANGE,
  PAGE_4K,
  PARAMETER_USES,
  PLATFORM_RANGE,
} from './igvm-format.js';

/** One variable header: its type (optional bit cleared), where it is, and its body. */
export interface IgvmHeader {
  readonly type: number;
  /** Byte offset of the header in the file, for messages. */
  readonly offset: number;
  readonly body: Buffer;
}

export interface IgvmPlatformHeader {
  readonly mask: number;
  readonly highestVtl: number;
  readonly platformType: number;
  readonly version: number;
  readonly sharedGpaBoundary: bigint;
}

/** A parsed IGVM file: its platforms, initialization headers and directives, and access to file data. */
export interface IgvmFile {
  readonly file: string;
  readonly data: Buffer;
  readonly formatVersion: number;
  readonly platforms: readonly IgvmPlatformHeader[];
  readonly initializations: readonly IgvmHeader[];
  readonly directives: readonly IgvmHeader[];
  /** The start of the file data section (file offsets of data lie at or after it). */
  readonly fileDataStart: number;
}

const OPTIONAL_BIT = 0x8000_0000;
const KNOWN_TYPES = new Set<number>(Object.values(HeaderType));
const inRange = (type: number, [low, high]: readonly [number, number]) => type >= low && type <= high;

/**
 * Parses the fixed header (magic, version, sizes, CRC32 of the fixed header
 * with its checksum zeroed plus the variable headers) and the variable
 * headers in their required order: platform, initialization, directive.
 */
export function parseIgvm(file: string, data: Buffer): IgvmFile {
  const fail = (code: MeasureErrorCode, problem: string) => new MeasureError(code, file, problem);
  if (data.length < 4 || data.subarray(0, 4).toString('latin1') !== IGVM_MAGIC) {
    throw fail(MeasureErrorCode.NotIgvm, `not an IGVM file: it does not start with the "IGVM" magic (found "${printable(data.subarray(0, 4))}")`);
  }
  if (data.length < FIXED_HEADER_V1)
    throw fail(MeasureErrorCode.IgvmTruncated, `truncated: ${data.length} bytes, shorter than the ${FIXED_HEADER_V1}-byte fixed header`);
  const formatVersion = data.readUInt32LE(4);
  if (formatVersion !== 1 && formatVersion !== 2) throw fail(MeasureErrorCode.IgvmUnsupported, `IGVM format version ${formatVersion}, expected 1 or 2`);
  const fixedLength = formatVersion === 1 ? FIXED_HEADER_V1 : FIXED_HEADER_V2;
  if (data.length < fixedLength)
    throw fail(MeasureErrorCode.IgvmTruncated, `truncated: ${data.length} bytes, shorter than the version ${formatVersion} fixed header`);
  if (formatVersion === 2) {
    if (data.readUInt32LE(24) !== 0) throw fail(MeasureErrorCode.IgvmUnsupported, `IGVM architecture ${data.readUInt32LE(24)}, expected 0 (x64)`);
    if (data.readUInt32LE(28) !== PAGE_4K) throw fail(MeasureErrorCode.IgvmUnsupported, `IGVM page size ${data.readUInt32LE(28)}, expected 4096`);
  }
  const variableOffset = data.readUInt32LE(8);
  const variableSize = data.readUInt32LE(12);
  const totalSize = data.readUInt32LE(16);
  if (totalSize !== data.length) {
    throw fail(
      MeasureErrorCode.IgvmTruncated,
      `the fixed header gives a total size of ${totalSize} bytes, but the file has ${data.length} (truncated or padded)`,
    );
  }
  if (variableOffset < fixedLength || variableOffset % 8 !== 0 || variableOffset + variableSize > data.length) {
    throw fail(
      MeasureErrorCode.IgvmBadHeader,
      `variable headers at ${hex(variableOffset)} (${variableSize} bytes) do not fit between the fixed header and the end of the file`,
    );
  }
  const checksum = data.readUInt32LE(20);
  const zeroed = Buffer.from(data.subarray(0, fixedLength));
  zeroed.writeUInt32LE(0, 20);
  const computed = crc32(data.subarray(variableOffset, variableOffset + variableSize), crc32(zeroed));
  if (computed !== checksum) {
    throw fail(MeasureErrorCode.IgvmBadChecksum, `bad header checksum: the file says ${hex(checksum)}, the fixed and variable headers give ${hex(computed)}`);
  }
  const headers = variableHeaders(data, variableOffset, variableSize, fail);
  const platforms = headers.filter((h) => h.type === HeaderType.SupportedPlatform).map((h) => platformOf(h, fail));
  const parsed: IgvmFile = {
    file,
    data,
    formatVersion,
    platforms,
    initializations: headers.filter((h) => inRange(h.type, INIT_RANGE)),
    directives: headers.filter((h) => inRange(h.type, DIRECTIVE_RANGE)),
    fileDataStart: variableOffset + variableSize,
  };
  checkParameterAreas(parsed.directives, fail);
  return parsed;
}

/** Bytes as text for a message: printable ASCII as is, the rest as \xNN. */
const printable = (bytes: Buffer) =>
  [...bytes].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');

type Fail = (code: MeasureErrorCode, problem: string) => MeasureError;

function variableHeaders(data: Buffer, start: number, size: number, fail: Fail): IgvmHeader[] {
  const headers: IgvmHeader[] = [];
  const end = start + size;
  let stage = 0;
  for (let at = start; at < end;) {
    if (at + 8 > end) throw fail(MeasureErrorCode.IgvmBadHeader, `variable header at ${hex(at)} is cut off by the end of the variable header section`);
    const raw = data.readUInt32LE(at);
    const length = data.readUInt32LE(at + 4);
    const type = (raw & ~OPTIONAL_BIT) >>> 0;
    if (at + 8 + length > end)
      throw fail(MeasureErrorCode.IgvmBadHeader, `header ${hex(raw)} at ${hex(at)} claims ${length} bytes, past the end of the variable headers`);
    const next = at + 8 + Math.ceil(length / 8) * 8;
    const headerStage = inRange(type, PLATFORM_RANGE) ? 0 : inRange(type, INIT_RANGE) ? 1 : inRange(type, DIRECTIVE_RANGE) ? 2 : -1;
    if (headerStage < 0 || !KNOWN_TYPES.has(type)) {
      if ((raw & OPTIONAL_BIT) !== 0) {
        at = next; // an optional header this loader does not know: skipped, as the format allows
        continue;
      }
      throw fail(MeasureErrorCode.IgvmBadHeader, `unknown header type ${hex(raw)} at ${hex(at)}`);
    }
    if (headerStage < stage) {
      throw fail(
        MeasureErrorCode.IgvmBadHeader,
        `header ${hex(type)} at ${hex(at)} is out of order: platform headers come first, then initialization, then directives`,
      );
    }
    stage = headerStage;
    const expected = HEADER_LENGTH[type];
    if (expected !== undefined && length !== expected) {
      throw fail(MeasureErrorCode.IgvmBadHeader, `header ${hex(type)} at ${hex(at)} is ${length} bytes, expected ${expected}`);
    }
    headers.push({ type, offset: at, body: data.subarray(at + 8, at + 8 + length) });
    at = next;
  }
  return headers;
}

function platformOf(header: IgvmHeader, fail: Fail): IgvmPlatformHeader {
  const b = header.body;
  const platform = {
    mask: b.readUInt32LE(0),
    highestVtl: b[4] as number,
    platformType: b[5] as number,
    version: b.readUInt16LE(6),
    sharedGpaBoundary: b.readBigUInt64LE(8),
  };
  if (platform.mask === 0 || (platform.mask & (platform.mask - 1)) !== 0) {
    throw fail(
      MeasureErrorCode.IgvmBadHeader,
      `platform header at ${hex(header.offset)} has compatibility mask ${hex(platform.mask)}; it must have exactly one bit set`,
    );
  }
  return platform;
}

/** Parameter areas are declared once, used only while declared, and inserted once. */
function checkParameterAreas(directives: readonly IgvmHeader[], fail: Fail): void {
  const areas = new Map<number, 'declared' | 'inserted'>();
  for (const d of directives) {
    if (d.type === HeaderType.ParameterArea) {
      const index = d.body.readUInt32LE(8);
      if (areas.has(index)) throw fail(MeasureErrorCode.IgvmBadHeader, `parameter area ${index} is declared twice (second at ${hex(d.offset)})`);
      const bytes = d.body.readBigUInt64LE(0);
      if (bytes === 0n || bytes % BigInt(PAGE_4K) !== 0n)
        throw fail(MeasureErrorCode.IgvmBadHeader, `parameter area ${index} is ${bytes} bytes, not whole 4 KiB pages`);
      areas.set(index, 'declared');
    } else if (d.type === HeaderType.ParameterInsert || PARAMETER_USES.has(d.type)) {
      const index = d.type === HeaderType.ParameterInsert ? d.body.readUInt32LE(12) : d.body.readUInt32LE(0);
      if (areas.get(index) !== 'declared') {
        throw fail(
          MeasureErrorCode.IgvmBadHeader,
          `header ${hex(d.type)} at ${hex(d.offset)} uses parameter area ${index}, which is not declared (or already inserted)`,
        );
      }
      if (d.type === HeaderType.ParameterInsert) areas.set(index, 'inserted');
    }
  }
}
