// A small IGVM writer for tests, written from the IGVM specification
// (microsoft/igvm, igvm_defs): a fixed header, 8-byte aligned variable
// headers (platforms, then initialization, then directives), then the file
// data that PAGE_DATA and VP_CONTEXT headers point at by absolute offset.
// It shares no code with the measurement engine it tests.

export const IgvmType = {
  SupportedPlatform: 0x1,
  GuestPolicy: 0x101,
  ParameterArea: 0x301,
  PageData: 0x302,
  ParameterInsert: 0x303,
  VpContext: 0x304,
  VpCount: 0x307,
  SnpIdBlock: 0x30b,
} as const;
export const IgvmPlatformType = { Native: 0, SevSnp: 2, Tdx: 3, SevEs: 5 } as const;
export const IgvmPageType = { Normal: 0, Secrets: 1, CpuidData: 2, CpuidXf: 3 } as const;
export const IgvmPageFlag = { Is2Mb: 0x1, Unmeasured: 0x2, Shared: 0x4 } as const;

export interface IgvmPlatformSpec {
  readonly mask: number;
  readonly platformType: number;
  readonly version?: number;
}

export type IgvmDirectiveSpec =
  | { readonly kind: 'page'; readonly gpa: number; readonly mask: number; readonly flags?: number; readonly dataType?: number; readonly data?: Buffer | null }
  | { readonly kind: 'parameter-area'; readonly index: number; readonly bytes: number }
  | { readonly kind: 'parameter-insert'; readonly gpa: number; readonly mask: number; readonly index: number }
  | { readonly kind: 'vp-count'; readonly index: number; readonly byteOffset: number }
  | { readonly kind: 'vp-context'; readonly gpa: number; readonly mask: number; readonly vpIndex: number; readonly vmsa: Buffer }
  | { readonly kind: 'snp-id-block'; readonly mask: number; readonly ld: Buffer }
  /** Any header, verbatim (to write malformed files). */
  | { readonly kind: 'raw'; readonly type: number; readonly body: Buffer };

export interface IgvmSpec {
  readonly platforms: readonly IgvmPlatformSpec[];
  readonly policy?: { readonly mask: number; readonly policy: bigint };
  readonly directives: readonly IgvmDirectiveSpec[];
  /** Point PAGE_DATA headers with equal contents at one copy of the data. */
  readonly dedupe?: boolean;
}

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as the IGVM checksum uses. */
export function crc32Ieee(...parts: Buffer[]): number {
  let crc = 0xffffffff;
  for (const part of parts) {
    for (const byte of part) {
      crc ^= byte;
      for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
    }
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const le = (width: 2 | 4 | 8, value: number | bigint) => {
  const b = Buffer.alloc(width);
  if (width === 2) b.writeUInt16LE(Number(value));
  else if (width === 4) b.writeUInt32LE(Number(value) >>> 0);
  else b.writeBigUInt64LE(BigInt(value));
  return b;
};

/** Writes an IGVM file (format version 1). */
export function writeIgvm(spec: IgvmSpec): Buffer {
  const headers: Array<{ type: number; body: (dataStart: number) => Buffer }> = [];
  const blobs: Buffer[] = [];
  const seen = new Map<string, number>();
  let dataLength = 0;
  /** Relative position of a blob in the data section (deduplicated when asked). */
  const place = (blob: Buffer): number => {
    const key = spec.dedupe ? blob.toString('base64') : null;
    const known = key === null ? undefined : seen.get(key);
    if (known !== undefined) return known;
    const at = dataLength;
    blobs.push(blob);
    dataLength += blob.length;
    if (key !== null) seen.set(key, at);
    return at;
  };
  for (const p of spec.platforms) {
    const body = Buffer.concat([le(4, p.mask), Buffer.of(0, p.platformType), le(2, p.version ?? 1), le(8, 0)]);
    headers.push({ type: IgvmType.SupportedPlatform, body: () => body });
  }
  if (spec.policy) {
    const body = Buffer.concat([le(8, spec.policy.policy), le(4, spec.policy.mask), le(4, 0)]);
    headers.push({ type: IgvmType.GuestPolicy, body: () => body });
  }
  for (const d of spec.directives) {
    switch (d.kind) {
      case 'page': {
        const at = d.data ? place(d.data) : null;
        headers.push({
          type: IgvmType.PageData,
          body: (start) =>
            Buffer.concat([le(8, d.gpa), le(4, d.mask), le(4, at === null ? 0 : start + at), le(4, d.flags ?? 0), le(2, d.dataType ?? 0), le(2, 0)]),
        });
        break;
      }
      case 'parameter-area': {
        const body = Buffer.concat([le(8, d.bytes), le(4, d.index), le(4, 0)]);
        headers.push({ type: IgvmType.ParameterArea, body: () => body });
        break;
      }
      case 'parameter-insert': {
        const body = Buffer.concat([le(8, d.gpa), le(4, d.mask), le(4, d.index)]);
        headers.push({ type: IgvmType.ParameterInsert, body: () => body });
        break;
      }
      case 'vp-count': {
        const body = Buffer.concat([le(4, d.index), le(4, d.byteOffset)]);
        headers.push({ type: IgvmType.VpCount, body: () => body });
        break;
      }
      case 'vp-context': {
        const at = place(d.vmsa);
        headers.push({
          type: IgvmType.VpContext,
          body: (start) => Buffer.concat([le(8, d.gpa), le(4, d.mask), le(4, start + at), le(2, d.vpIndex), le(2, 0)]),
        });
        break;
      }
      case 'snp-id-block': {
        // compatibility mask, author key enabled, reserved, then the expected launch digest; the rest (ids, keys, signatures) zero.
        const body = Buffer.concat([le(4, d.mask), Buffer.alloc(4), d.ld, Buffer.alloc(696 - 56)]);
        headers.push({ type: IgvmType.SnpIdBlock, body: () => body });
        break;
      }
      case 'raw':
        headers.push({ type: d.type, body: () => d.body });
    }
  }
  const variableLength = headers.reduce((n, h) => n + 8 + Math.ceil(h.body(0).length / 8) * 8, 0);
  const fixedLength = 24;
  const dataStart = fixedLength + variableLength;
  const variable = Buffer.concat(
    headers.map((h) => {
      const body = h.body(dataStart);
      return Buffer.concat([le(4, h.type), le(4, body.length), body, Buffer.alloc(Math.ceil(body.length / 8) * 8 - body.length)]);
    }),
  );
  const fixed = Buffer.concat([Buffer.from('IGVM', 'latin1'), le(4, 1), le(4, fixedLength), le(4, variable.length), le(4, dataStart + dataLength), le(4, 0)]);
  fixed.writeUInt32LE(crc32Ieee(fixed, variable), 20);
  return Buffer.concat([fixed, variable, ...blobs]);
}
