import { describe, expect, it } from 'vitest';
import { crc32Ieee, IgvmPlatformType, IgvmType, writeIgvm, type IgvmDirectiveSpec } from '@cocos-manager/testing';
import { measureSnpIgvm, MeasureError, MeasureErrorCode, parseIgvm } from '../src/index.js';

const SNP = { mask: 1, platformType: IgvmPlatformType.SevSnp };
const good = () => writeIgvm({ platforms: [SNP], directives: [{ kind: 'page', gpa: 0, mask: 1, data: Buffer.alloc(4096, 1) }] });
/** Recomputes the CRC after an edit, so the edit itself is what is refused. */
const resealed = (file: Buffer) => {
  const fixed = Buffer.from(file.subarray(0, 24));
  fixed.writeUInt32LE(0, 20);
  file.writeUInt32LE(crc32Ieee(fixed, file.subarray(24, 24 + file.readUInt32LE(12))), 20);
  return file;
};
const raw = (type: number, body: Buffer): IgvmDirectiveSpec => ({ kind: 'raw', type, body });
const u32s = (...v: number[]) => Buffer.concat(v.map((x) => Buffer.from(Uint32Array.of(x).buffer)));

function failure(file: Buffer): MeasureError {
  try {
    measureSnpIgvm(parseIgvm('/fw/bad.igvm', file));
  } catch (err) {
    expect(err).toBeInstanceOf(MeasureError);
    expect((err as Error).message.split('\n')).toHaveLength(1);
    expect((err as Error).message.startsWith('/fw/bad.igvm: ')).toBe(true);
    return err as MeasureError;
  }
  throw new Error('measured a bad file');
}

describe('bad IGVM files get one-line errors naming the file and the problem', () => {
  it.each([
    [
      'wrong magic',
      () => Buffer.from('MZ\x90\x00 this is a PE file'),
      MeasureErrorCode.NotIgvm,
      /not an IGVM file: it does not start with the "IGVM" magic \(found "MZ/,
    ],
    ['empty file', () => Buffer.alloc(0), MeasureErrorCode.NotIgvm, /does not start with the "IGVM" magic/],
    [
      'shorter than the fixed header',
      () => good().subarray(0, 16),
      MeasureErrorCode.IgvmTruncated,
      /truncated: 16 bytes, shorter than the 24-byte fixed header/,
    ],
    [
      'truncated file data',
      () => good().subarray(0, good().length - 100),
      MeasureErrorCode.IgvmTruncated,
      /gives a total size of \d+ bytes, but the file has \d+ \(truncated or padded\)/,
    ],
    [
      'bad CRC',
      () => {
        const f = good();
        f[30] = (f[30] as number) ^ 0xff; // inside the platform header
        return f;
      },
      MeasureErrorCode.IgvmBadChecksum,
      /bad header checksum: the file says 0x[0-9a-f]+, the fixed and variable headers give 0x[0-9a-f]+/,
    ],
    [
      'format version 3',
      () => {
        const f = good();
        f.writeUInt32LE(3, 4);
        return resealed(f);
      },
      MeasureErrorCode.IgvmUnsupported,
      /IGVM format version 3, expected 1 or 2/,
    ],
    [
      'variable headers past the end',
      () => {
        const f = good();
        f.writeUInt32LE(f.length, 12);
        return f;
      },
      MeasureErrorCode.IgvmBadHeader,
      /variable headers at 0x18 \(\d+ bytes\) do not fit/,
    ],
    [
      'a header of the wrong length',
      () => writeIgvm({ platforms: [SNP], directives: [raw(IgvmType.PageData, Buffer.alloc(16))] }),
      MeasureErrorCode.IgvmBadHeader,
      /header 0x302 at 0x[0-9a-f]+ is 16 bytes, expected 24/,
    ],
    [
      'an unknown header type',
      () => writeIgvm({ platforms: [SNP], directives: [raw(0x3ff, Buffer.alloc(8))] }),
      MeasureErrorCode.IgvmBadHeader,
      /unknown header type 0x3ff at 0x/,
    ],
    [
      'a platform header after a directive',
      () =>
        writeIgvm({
          platforms: [],
          directives: [
            raw(IgvmType.PageData, Buffer.alloc(24)),
            raw(IgvmType.SupportedPlatform, Buffer.concat([u32s(1), Buffer.of(0, 2), Buffer.from([1, 0]), Buffer.alloc(8)])),
          ],
        }),
      MeasureErrorCode.IgvmBadHeader,
      /header 0x1 at 0x[0-9a-f]+ is out of order: platform headers come first/,
    ],
    [
      'no SEV-SNP platform',
      () => writeIgvm({ platforms: [{ mask: 1, platformType: IgvmPlatformType.Tdx }], directives: [] }),
      MeasureErrorCode.IgvmNoPlatform,
      /declares no SEV-SNP platform \(platforms: TDX\)/,
    ],
    [
      'a platform mask with two bits',
      () => writeIgvm({ platforms: [{ mask: 3, platformType: IgvmPlatformType.SevSnp }], directives: [] }),
      MeasureErrorCode.IgvmBadHeader,
      /compatibility mask 0x3; it must have exactly one bit set/,
    ],
    [
      'a parameter area declared twice',
      () =>
        writeIgvm({
          platforms: [SNP],
          directives: [
            { kind: 'parameter-area', index: 1, bytes: 4096 },
            { kind: 'parameter-area', index: 1, bytes: 4096 },
          ],
        }),
      MeasureErrorCode.IgvmBadHeader,
      /parameter area 1 is declared twice/,
    ],
    [
      'an insert of an undeclared area',
      () => writeIgvm({ platforms: [SNP], directives: [{ kind: 'parameter-insert', gpa: 0, mask: 1, index: 9 }] }),
      MeasureErrorCode.IgvmBadHeader,
      /uses parameter area 9, which is not declared/,
    ],
    [
      'an area inserted twice',
      () =>
        writeIgvm({
          platforms: [SNP],
          directives: [
            { kind: 'parameter-area', index: 0, bytes: 4096 },
            { kind: 'parameter-insert', gpa: 0, mask: 1, index: 0 },
            { kind: 'parameter-insert', gpa: 0x1000, mask: 1, index: 0 },
          ],
        }),
      MeasureErrorCode.IgvmBadHeader,
      /uses parameter area 0, which is not declared \(or already inserted\)/,
    ],
    [
      'page data outside the file data section',
      () => writeIgvm({ platforms: [SNP], directives: [raw(IgvmType.PageData, Buffer.concat([Buffer.alloc(8), u32s(1, 0x100000, 0, 0)]))] }),
      MeasureErrorCode.IgvmBadHeader,
      /file data at 0x100000 \(4096 bytes\) lies outside the file data section \(header at 0x/,
    ],
    [
      'an unknown page data type',
      () => writeIgvm({ platforms: [SNP], directives: [{ kind: 'page', gpa: 0, mask: 1, dataType: 7 }] }),
      MeasureErrorCode.IgvmBadHeader,
      /PAGE_DATA at 0x0 has unknown data type 7/,
    ],
    [
      'a misaligned page',
      () => writeIgvm({ platforms: [SNP], directives: [{ kind: 'page', gpa: 0x1234, mask: 1 }] }),
      MeasureErrorCode.IgvmBadHeader,
      /guest address 0x1234 is not 4 KiB aligned/,
    ],
    [
      'a VP context of no declared platform',
      () => writeIgvm({ platforms: [SNP], directives: [{ kind: 'vp-context', gpa: 0, mask: 8, vpIndex: 0, vmsa: Buffer.alloc(4096) }] }),
      MeasureErrorCode.IgvmBadHeader,
      /VP context with compatibility mask 0x8, which no platform header declares/,
    ],
  ] as const)('%s', (_name, make, code, message) => {
    const err = failure(make());
    expect(err.measureCode).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('an unknown header with the optional bit set is skipped', () => {
    const file = writeIgvm({ platforms: [SNP], directives: [raw(0x8000_03ff, Buffer.alloc(12)), { kind: 'page', gpa: 0, mask: 1 }] });
    expect(measureSnpIgvm(parseIgvm('x.igvm', file)).digest).toHaveLength(48);
  });
});
