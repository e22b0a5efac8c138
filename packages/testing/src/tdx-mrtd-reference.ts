// A second derivation of MRTD, written from Intel's TDX module specification
// (TDH.MEM.PAGE.ADD and TDH.MR.EXTEND each extend the TD's MRTD with a
// 128-byte block: the ASCII operation name, the GPA at byte 16; MR.EXTEND
// adds the 256 bytes it measures as two more blocks) and the TDVF design
// guide's metadata layout. It shares no code with the engine it checks: it
// builds the whole measured byte stream and hashes it once.
import { guidBytes } from './sev-test-firmware.js';
import { nodeCrypto } from '@cocos-manager/core';

const { createHash } = nodeCrypto;

export interface TdvfSectionReference {
  readonly dataOffset: number;
  readonly memoryAddress: bigint;
  readonly memoryDataSize: bigint;
  readonly attributes: number;
}

/** Reads the TDVF sections with a DataView, following the footer-table entry e47a6535-…. */
export function tdvfSectionsReference(image: Uint8Array): TdvfSectionReference[] {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const wanted = Buffer.from(guidBytes('e47a6535-984a-4798-865e-4685a7bf8ec2'));
  const footer = image.byteLength - 32;
  let cursor = footer - 18;
  const tableStart = footer - view.getUint16(footer - 18, true);
  while (cursor - 18 >= tableStart) {
    const size = view.getUint16(cursor - 18, true);
    if (Buffer.from(image.subarray(cursor - 16, cursor)).equals(wanted)) {
      const descriptor = image.byteLength - view.getUint32(cursor - size, true);
      const count = view.getUint32(descriptor + 12, true);
      const sections: TdvfSectionReference[] = [];
      for (let i = 0; i < count; i++) {
        const at = descriptor + 16 + 32 * i;
        sections.push({
          dataOffset: view.getUint32(at, true),
          memoryAddress: view.getBigUint64(at + 8, true),
          memoryDataSize: view.getBigUint64(at + 16, true),
          attributes: view.getUint32(at + 28, true),
        });
      }
      return sections;
    }
    cursor -= size;
  }
  throw new Error('no TDVF metadata in the footer table');
}

function block(operation: string, gpa: bigint): Uint8Array {
  const out = new Uint8Array(128);
  out.set(new TextEncoder().encode(operation), 0);
  new DataView(out.buffer).setBigUint64(16, gpa, true);
  return out;
}

/** MRTD from the spec: page adds and extends in KVM's single pass, or all adds of a section before its extends. */
export function mrtdReference(image: Uint8Array, order: 'single-pass' | 'two-pass' = 'single-pass'): string {
  const stream: Uint8Array[] = [];
  for (const s of tdvfSectionsReference(image)) {
    const pages = Number(s.memoryDataSize / 4096n);
    const adds = (p: number) => ((s.attributes & 2) === 0 ? [block('MEM.PAGE.ADD', s.memoryAddress + BigInt(p * 4096))] : []);
    const extends_ = (p: number) =>
      (s.attributes & 1) === 0
        ? []
        : Array.from({ length: 16 }, (_, c) => {
            const offset = p * 4096 + c * 256;
            return [block('MR.EXTEND', s.memoryAddress + BigInt(offset)), image.subarray(s.dataOffset + offset, s.dataOffset + offset + 256)];
          }).flat();
    const indices = Array.from({ length: pages }, (_, p) => p);
    if (order === 'single-pass') for (const p of indices) stream.push(...adds(p), ...extends_(p));
    else stream.push(...indices.flatMap(adds), ...indices.flatMap(extends_));
  }
  const hash = createHash('sha384');
  hash.update(Buffer.concat(stream));
  return hash.digest('hex');
}
