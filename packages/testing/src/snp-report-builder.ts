// SEV-SNP attestation reports for tests, laid out from the SEV-SNP firmware
// ABI specification ("ATTESTATION_REPORT structure", version 2: 0x4a0 bytes)
// and signed as the PSP signs them: ECDSA P-384 with SHA-384 over the first
// 0x2a0 bytes, R and S stored little-endian in 72-byte fields. And an
// AMD-like certificate chain (ARK, ASK: RSA-PSS; VCEK: EC P-384) made with
// the openssl CLI. Independent of the engine that verifies them.
import type { KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { nodeCrypto } from '@cocos-manager/core';

const { sign } = nodeCrypto;

export interface SnpReportFields {
  readonly version?: number;
  readonly guestSvn?: number;
  readonly policy?: bigint;
  readonly familyId?: Buffer;
  readonly imageId?: Buffer;
  readonly vmpl?: number;
  readonly currentTcb?: bigint;
  readonly reportData?: Buffer;
  readonly measurement?: Buffer;
  readonly hostData?: Buffer;
  readonly reportedTcb?: bigint;
  readonly chipId?: Buffer;
  readonly committedTcb?: bigint;
  readonly launchTcb?: bigint;
}

/** The unsigned report (signature algorithm 1: ECDSA P-384 with SHA-384). */
export function buildSnpReport(fields: SnpReportFields): Buffer {
  const r = Buffer.alloc(0x4a0);
  r.writeUInt32LE(fields.version ?? 2, 0x00);
  r.writeUInt32LE(fields.guestSvn ?? 0, 0x04);
  r.writeBigUInt64LE(fields.policy ?? 0x30000n, 0x08);
  (fields.familyId ?? Buffer.alloc(16)).copy(r, 0x10);
  (fields.imageId ?? Buffer.alloc(16)).copy(r, 0x20);
  r.writeUInt32LE(fields.vmpl ?? 0, 0x30);
  r.writeUInt32LE(1, 0x34);
  r.writeBigUInt64LE(fields.currentTcb ?? 0n, 0x38);
  (fields.reportData ?? Buffer.alloc(64)).copy(r, 0x50);
  (fields.measurement ?? Buffer.alloc(48)).copy(r, 0x90);
  (fields.hostData ?? Buffer.alloc(32)).copy(r, 0xc0);
  Buffer.alloc(32, 0xff).copy(r, 0x160); // REPORT_ID_MA: no migration agent
  r.writeBigUInt64LE(fields.reportedTcb ?? 0n, 0x180);
  (fields.chipId ?? Buffer.alloc(64, 0xc1)).copy(r, 0x1a0);
  r.writeBigUInt64LE(fields.committedTcb ?? 0n, 0x1e0);
  r.writeBigUInt64LE(fields.launchTcb ?? 0n, 0x1f0);
  return r;
}

/** Signs the report in place with a P-384 key, R and S little-endian. */
export function signSnpReport(report: Buffer, key: KeyObject): Buffer {
  const signature = sign('sha384', report.subarray(0, 0x2a0), { key, dsaEncoding: 'ieee-p1363' });
  report.fill(0, 0x2a0);
  Buffer.from(signature.subarray(0, 48)).reverse().copy(report, 0x2a0);
  Buffer.from(signature.subarray(48, 96))
    .reverse()
    .copy(report, 0x2a0 + 72);
  return report;
}

/** A TCB_VERSION word of the Milan/Genoa layout. */
export function milanTcb(parts: { bootloader: number; tee: number; snp: number; microcode: number }): bigint {
  return BigInt(parts.bootloader) | (BigInt(parts.tee) << 8n) | (BigInt(parts.snp) << 48n) | (BigInt(parts.microcode) << 56n);
}

export interface TestAmdChain {
  /** `ark.pem`, `ask.pem`, `vcek.pem` and their `.key` files. */
  file(name: string): string;
}

/** ARK (self-signed) → ASK → VCEK, as AMD's KDS chains them: RSA-PSS/SHA-384 signatures, an EC P-384 VCEK. */
export async function makeTestAmdChain(dir: string, prefix = ''): Promise<TestAmdChain> {
  const file = (name: string) => path.join(dir, `${prefix}${name}`);
  const pss = ['-sha384', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:48'];
  const rsa = ['-newkey', 'rsa:2048', '-nodes'];
  writeFileSync(file('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  await execa('openssl', ['req', '-x509', ...rsa, ...pss, '-keyout', file('ark.key'), '-out', file('ark.pem'), '-days', '2', '-subj', '/CN=ARK-Test']);
  const issue = async (name: string, signer: string, cn: string, key: string[], ext?: string) => {
    await execa('openssl', ['req', ...key, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${cn}`]);
    await execa('openssl', [
      'x509',
      '-req',
      ...pss,
      '-in',
      file(`${name}.csr`),
      '-CA',
      file(`${signer}.pem`),
      '-CAkey',
      file(`${signer}.key`),
      '-CAcreateserial',
      '-out',
      file(`${name}.pem`),
      '-days',
      '2',
      ...(ext ? ['-extfile', ext] : []),
    ]);
  };
  await issue('ask', 'ark', 'SEV-Test', rsa, file('ca.ext'));
  await issue('vcek', 'ask', 'SEV-VCEK', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes']);
  return { file };
}
