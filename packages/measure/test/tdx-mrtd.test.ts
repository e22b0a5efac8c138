import { describe, expect, it } from 'vitest';
import { guidBytes, mrtdReference } from '@cocos-manager/testing';
import { FirmwareImage, measureTdxMrtd, MeasureError, MeasureErrorCode, tdvfMetadata, TdvfAttribute } from '../src/index.js';
import { debianOvmf } from './reference-vectors.js';

interface Section {
  dataOffset: number;
  rawDataSize: number;
  memoryAddress: number;
  memoryDataSize: number;
  type: number;
  attributes: number;
}

/** A small TDVF image: patterned pages, the TDVF descriptor near the end, the footer-table entry pointing at it. */
function tdvfImage(sections: Section[], edit: (descriptor: Buffer) => void = () => undefined): Buffer {
  const size = 0x8000;
  const image = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) image[i] = (i * 13 + (i >> 9)) & 0xff;
  const descriptor = Buffer.alloc(16 + sections.length * 32);
  descriptor.write('TDVF', 0, 'latin1');
  descriptor.writeUInt32LE(descriptor.length, 4);
  descriptor.writeUInt32LE(1, 8);
  descriptor.writeUInt32LE(sections.length, 12);
  sections.forEach((s, i) => {
    const at = 16 + i * 32;
    descriptor.writeUInt32LE(s.dataOffset, at);
    descriptor.writeUInt32LE(s.rawDataSize, at + 4);
    descriptor.writeBigUInt64LE(BigInt(s.memoryAddress), at + 8);
    descriptor.writeBigUInt64LE(BigInt(s.memoryDataSize), at + 16);
    descriptor.writeUInt32LE(s.type, at + 24);
    descriptor.writeUInt32LE(s.attributes, at + 28);
  });
  edit(descriptor);
  const descriptorAt = size - 0x400;
  descriptor.copy(image, descriptorAt);
  const entry = Buffer.alloc(4 + 18);
  entry.writeUInt32LE(size - descriptorAt, 0);
  entry.writeUInt16LE(entry.length, 4);
  guidBytes('e47a6535-984a-4798-865e-4685a7bf8ec2').copy(entry, 6);
  const footer = Buffer.alloc(18);
  footer.writeUInt16LE(entry.length + 18, 0);
  guidBytes('96b582de-1fb2-45f7-baea-a366c55a082d').copy(footer, 2);
  Buffer.concat([entry, footer]).copy(image, size - 32 - entry.length - footer.length);
  return image;
}

const bfv = { dataOffset: 0, rawDataSize: 0x2000, memoryAddress: 0xfffc0000, memoryDataSize: 0x2000, type: 0, attributes: TdvfAttribute.MrExtend };
const cfv = { dataOffset: 0x2000, rawDataSize: 0x1000, memoryAddress: 0xfffc2000, memoryDataSize: 0x1000, type: 1, attributes: 0 };
const hob = { dataOffset: 0, rawDataSize: 0, memoryAddress: 0x809000, memoryDataSize: 0x2000, type: 2, attributes: 0 };
const aug = { dataOffset: 0, rawDataSize: 0, memoryAddress: 0x900000, memoryDataSize: 0x3000, type: 3, attributes: TdvfAttribute.PageAug };
const mrtd = (image: Buffer, order?: 'single-pass' | 'two-pass') => measureTdxMrtd(new FirmwareImage('tdvf.fd', image), order).toString('hex');

describe("TDX MRTD, checked against a derivation from Intel's TDX module specification", () => {
  it("Debian 12's OVMF.fd carries TDVF metadata: BFV (extended), CFV, TD_HOB and temporary memory", () => {
    const sections = tdvfMetadata(new FirmwareImage('/usr/share/ovmf/OVMF.fd', debianOvmf()));
    expect(sections.map((s) => [s.type, s.attributes])).toEqual([
      [0, 1],
      [1, 0],
      [3, 0],
      [3, 0],
      [2, 0],
      [3, 0],
    ]);
  });
  it.each(['single-pass', 'two-pass'] as const)("Debian 12's OVMF.fd, %s page adds", (order) => {
    expect(mrtd(debianOvmf(), order)).toBe(mrtdReference(debianOvmf(), order));
  });
  it('the order of page adds matters, and single-pass is the default (KVM since Linux 6.16)', () => {
    expect(mrtd(debianOvmf())).toBe(mrtd(debianOvmf(), 'single-pass'));
    expect(mrtd(debianOvmf(), 'single-pass')).not.toBe(mrtd(debianOvmf(), 'two-pass'));
  });
  it('a test image with every kind of section', () => {
    const image = tdvfImage([bfv, cfv, hob, aug]);
    expect(mrtd(image)).toBe(mrtdReference(image));
    expect(mrtd(image, 'two-pass')).toBe(mrtdReference(image, 'two-pass'));
  });
  it('PAGE_AUG sections are not added; MR_EXTEND sections are measured by content, others only by address', () => {
    const base = mrtd(tdvfImage([bfv, cfv, aug]));
    expect(mrtd(tdvfImage([bfv, cfv]))).toBe(base);
    expect(mrtd(tdvfImage([bfv, cfv, { ...aug, attributes: 0 }]))).not.toBe(base);
    const editedCfv = tdvfImage([bfv, cfv, aug]);
    editedCfv[0x2100] = (editedCfv[0x2100] as number) ^ 1;
    expect(mrtd(editedCfv)).toBe(base);
    const editedBfv = tdvfImage([bfv, cfv, aug]);
    editedBfv[0x1100] = (editedBfv[0x1100] as number) ^ 1;
    expect(mrtd(editedBfv)).not.toBe(base);
  });
  it.each([
    ['a wrong signature', [bfv], (d: Buffer) => d.write('XDVF', 0, 'latin1'), /TDVF descriptor signature is "XDVF", expected "TDVF"/],
    ['a wrong version', [bfv], (d: Buffer) => d.writeUInt32LE(2, 8), /TDVF metadata version 2, expected 1/],
    ['a short descriptor', [bfv], (d: Buffer) => d.writeUInt32LE(20, 4), /TDVF descriptor length 20 is too small for its 1 sections/],
    [
      'a misaligned address',
      [{ ...bfv, memoryAddress: 0xfffc0800 }],
      () => undefined,
      /TDVF section 0 \(type 0\): memory address 0xfffc0800 is not 4 KiB aligned/,
    ],
    ['raw data larger than memory', [{ ...cfv, rawDataSize: 0x2000 }], () => undefined, /raw data size 0x2000 exceeds its memory size 0x1000/],
    ['data outside the image', [{ ...bfv, dataOffset: 0x7000 }], () => undefined, /data at 0x7000 \(0x2000 bytes\) lies outside the image/],
    ['unknown attributes', [{ ...cfv, attributes: 4 }], () => undefined, /unknown attributes 0x4/],
  ] as const)('%s is refused, naming the file', (_name, sections, edit, message) => {
    const image = tdvfImage([...sections], edit);
    expect(() => mrtd(image)).toThrow(MeasureError);
    expect(() => mrtd(image)).toThrow(message);
    try {
      mrtd(image);
    } catch (err) {
      expect((err as MeasureError).measureCode).toBe(MeasureErrorCode.BadTdvfMetadata);
      expect((err as Error).message.startsWith('tdvf.fd: ')).toBe(true);
    }
  });
});
