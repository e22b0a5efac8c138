import { ManagerError } from '@cocos-manager/core';

/**
 * What can be wrong with a measurement's inputs, as stable codes: callers
 * branch on `measureCode`, never on the message. The message is one line naming the
 * file and the problem.
 */
export const MeasureErrorCode = {
  /** An option is missing, unknown or out of range (vCPU count, type, features…). */
  BadOption: 'bad-option',
  /** A file cannot be read. */
  Unreadable: 'file-unreadable',
  /** The firmware is too short or not a whole number of pages. */
  BadFirmwareSize: 'firmware-bad-size',
  /** No OVMF footer table (GUID 96b582de-… 32 bytes before the end). */
  NoFooterTable: 'firmware-no-footer-table',
  /** The footer table's entries do not fit together. */
  BadFooterTable: 'firmware-bad-footer-table',
  /** No SEV metadata ("ASEV") where an SEV-SNP launch needs it. */
  NoSevMetadata: 'firmware-no-sev-metadata',
  /** The SEV metadata header or one of its sections is malformed. */
  BadSevMetadata: 'firmware-bad-sev-metadata',
  /** No SEV-ES AP reset block, which the VMSAs of SEV-ES and SEV-SNP need. */
  NoResetBlock: 'firmware-no-reset-block',
  /** A kernel is given but the firmware has no KERNEL_HASHES section / SEV hash table. */
  NoKernelHashes: 'firmware-no-kernel-hashes',
  /** No TDVF metadata ("TDVF"), which TDX needs. */
  NoTdvfMetadata: 'firmware-no-tdvf-metadata',
  /** The TDVF metadata descriptor or one of its sections is malformed. */
  BadTdvfMetadata: 'firmware-bad-tdvf-metadata',
  /** The file does not start with the IGVM magic. */
  NotIgvm: 'igvm-bad-magic',
  /** The IGVM file is shorter than its headers say. */
  IgvmTruncated: 'igvm-truncated',
  /** An IGVM format version or architecture this engine does not read. */
  IgvmUnsupported: 'igvm-unsupported',
  /** The IGVM header checksum (CRC32 of the fixed and variable headers) is wrong. */
  IgvmBadChecksum: 'igvm-bad-checksum',
  /** A variable header is malformed (length, order, reserved bits, file data out of range). */
  IgvmBadHeader: 'igvm-bad-header',
  /** The IGVM file declares no SEV-SNP platform. */
  IgvmNoPlatform: 'igvm-no-platform',
  /** The file's SNP ID block expects another launch digest. */
  IgvmIdBlockMismatch: 'igvm-id-block-mismatch',
  /** An attestation report that is not a 1184-byte SEV-SNP report of version 2 or later. */
  BadReport: 'report-malformed',
  /** A certificate that cannot be read as PEM or DER X.509. */
  BadCertificate: 'certificate-malformed',
} as const;
export type MeasureErrorCode = (typeof MeasureErrorCode)[keyof typeof MeasureErrorCode];

/** A measurement input that cannot be measured: `<file>: <problem>` on one line. */
export class MeasureError extends ManagerError {
  constructor(
    /** What is wrong (core's code of every MeasureError is MEASUREMENT_INPUT_INVALID). */
    readonly measureCode: MeasureErrorCode,
    /** The file at fault, or null for an option. */
    readonly file: string | null,
    readonly problem: string,
  ) {
    super('MEASUREMENT_INPUT_INVALID', file === null ? problem : `${file}: ${problem}`);
    this.name = 'MeasureError';
  }
}

/** The hex of a number, for messages (`0x80b004`). */
export const hex = (value: number | bigint): string => `0x${value.toString(16)}`;
