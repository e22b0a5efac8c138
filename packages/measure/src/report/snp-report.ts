import { MeasureError, MeasureErrorCode } from '../errors.js';

/** An SEV-SNP attestation report of version 2 or later: 0x4a0 bytes. */
export const SNP_REPORT_BYTES = 0x4a0;
/** The signature covers the report up to here. */
export const SIGNED_BYTES = 0x2a0;

/** The fields of an attestation report (SEV-SNP firmware ABI, "ATTESTATION_REPORT structure"). */
export interface SnpReport {
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: bigint;
  readonly familyId: Buffer;
  readonly imageId: Buffer;
  readonly vmpl: number;
  /** 1: ECDSA P-384 with SHA-384. */
  readonly signatureAlgo: number;
  readonly currentTcb: bigint;
  readonly platformInfo: bigint;
  /** Bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 2-4 SIGNING_KEY (0 VCEK, 1 VLEK). */
  readonly keyFlags: number;
  readonly reportData: Buffer;
  readonly measurement: Buffer;
  readonly hostData: Buffer;
  readonly idKeyDigest: Buffer;
  readonly authorKeyDigest: Buffer;
  readonly reportId: Buffer;
  readonly reportIdMa: Buffer;
  readonly reportedTcb: bigint;
  readonly chipId: Buffer;
  readonly committedTcb: bigint;
  readonly currentVersion: string;
  readonly committedVersion: string;
  readonly launchTcb: bigint;
  /** The bytes the signature covers. */
  readonly signed: Buffer;
  /** R and S as AMD lays them out: 72 bytes each, little-endian, zero-padded. */
  readonly signatureR: Buffer;
  readonly signatureS: Buffer;
}

/** Which key signed the report, from SIGNING_KEY. */
export const signingKeyOf = (report: SnpReport): 'VCEK' | 'VLEK' | 'none' =>
  (['VCEK', 'VLEK'][(report.keyFlags >> 2) & 7] as 'VCEK' | 'VLEK' | undefined) ?? 'none';

/** Parses a report; anything but a 1184-byte report of version 2 or later is an error naming the file. */
export function parseSnpReport(file: string, data: Buffer): SnpReport {
  const fail = (problem: string) => new MeasureError(MeasureErrorCode.BadReport, file, problem);
  if (data.length !== SNP_REPORT_BYTES)
    throw fail(`${data.length} bytes, but an SEV-SNP attestation report (version 2 and later) is ${SNP_REPORT_BYTES} bytes (0x4a0)`);
  const version = data.readUInt32LE(0);
  if (version < 2) throw fail(`report version ${version}; this layout is version 2 and later`);
  const bytes = (at: number, length: number) => Buffer.from(data.subarray(at, at + length));
  const version3 = (at: number) => `${data[at + 2]}.${data[at + 1]}.${data[at]}`;
  return {
    version,
    guestSvn: data.readUInt32LE(0x04),
    policy: data.readBigUInt64LE(0x08),
    familyId: bytes(0x10, 16),
    imageId: bytes(0x20, 16),
    vmpl: data.readUInt32LE(0x30),
    signatureAlgo: data.readUInt32LE(0x34),
    currentTcb: data.readBigUInt64LE(0x38),
    platformInfo: data.readBigUInt64LE(0x40),
    keyFlags: data.readUInt32LE(0x48),
    reportData: bytes(0x50, 64),
    measurement: bytes(0x90, 48),
    hostData: bytes(0xc0, 32),
    idKeyDigest: bytes(0xe0, 48),
    authorKeyDigest: bytes(0x110, 48),
    reportId: bytes(0x140, 32),
    reportIdMa: bytes(0x160, 32),
    reportedTcb: data.readBigUInt64LE(0x180),
    chipId: bytes(0x1a0, 64),
    committedTcb: data.readBigUInt64LE(0x1e0),
    currentVersion: version3(0x1e8),
    committedVersion: version3(0x1ec),
    launchTcb: data.readBigUInt64LE(0x1f0),
    signed: bytes(0, SIGNED_BYTES),
    signatureR: bytes(SIGNED_BYTES, 72),
    signatureS: bytes(SIGNED_BYTES + 72, 72),
  };
}
