// The attestation policy carries digests the manager computes itself, from
// the files the VM launches (the real binary; no igvmmeasure anywhere).
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { igvmFromOvmf, mrtdReference, pageFromRuns } from '@cocos-manager/testing';
import { MAIN, REPO } from './harness.js';

interface Vectors {
  firmware: { 'debian-ovmf': { sha256: string } };
  vmsas: Array<{ vcpuType: string; guestFeatures: string; bsp: Array<[number, string]> }>;
  igvmDefaultZeroRule: { vectors: Array<{ vcpus: number; vcpuType: string; guestFeatures: string; output: string }> };
}
const vectors = JSON.parse(readFileSync(path.join(REPO, 'packages/measure/test/vectors/sev-snp-measure.json'), 'utf8')) as Vectors;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-measure-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);

const ovmf = readFileSync('/usr/share/ovmf/OVMF.fd');
// One vCPU EPYC-v4, features 0x1: the VMSA sev-snp-measure dumped, and the digest of igvmmeasure's default rule.
const vmsa = pageFromRuns(vectors.vmsas.find((v) => v.vcpuType === 'EPYC-v4' && v.guestFeatures === '0x1')?.bsp ?? []);
const expected = vectors.igvmDefaultZeroRule.vectors.find((v) => v.vcpus === 1 && v.vcpuType === 'EPYC-v4')?.output ?? '';
writeFileSync(file('ovmf.igvm'), igvmFromOvmf(ovmf, { vmsas: [vmsa] }));

/** The binary in a directory without igvmmeasure, with a PATH without it either. */
function run(args: string[], env: Record<string, string>) {
  return execa('node', [MAIN, ...args], {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', MANAGER_RUN_DIR: file('run'), MANAGER_STATE_DIR: file('state'), ...env },
    extendEnv: false,
    reject: false,
    encoding: 'buffer',
    // stdout's bytes as written: execa would strip a final 0x0a, the last byte of one signed CoRIM in 256.
    stripFinalNewline: { stdout: false },
  });
}
const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('utf8');
const snp = { MANAGER_QEMU_ENABLE_SEV_SNP: 'true', MANAGER_QEMU_IGVM_FILE: file('ovmf.igvm') };

describe('SEV-SNP: the policy measurement is computed from the IGVM file, natively', () => {
  it('the JSON policy carries the native digest, equal to the reference for the same pages and VMSA', async () => {
    expect(
      await execa('sh', ['-c', 'command -v igvmmeasure'], { env: { PATH: '/usr/bin:/bin' }, extendEnv: false, reject: false }).then((r) => r.exitCode),
    ).not.toBe(0);
    const result = await run(['attestation-policy', '--format', 'json'], snp);
    expect(result.exitCode, text(result.stderr)).toBe(0);
    const policy = JSON.parse(text(result.stdout)) as { policy: { measurement: string } };
    expect(Buffer.from(policy.policy.measurement, 'base64').toString('hex')).toBe(expected);
    expect(text(result.stderr)).toBe('');
  });

  it('the CoRIM carries it too (decoded by an independent decoder)', async () => {
    const result = await run(['attestation-policy', '--format', 'corim'], snp);
    expect(result.exitCode, text(result.stderr)).toBe(0);
    writeFileSync(file('policy.corim'), Buffer.from(result.stdout));
    const decoded = await execa('/usr/bin/python3', [path.join(import.meta.dirname, 'verify_corim.py'), file('policy.corim'), '', 'launch-measurement'], {
      reject: false,
    });
    expect(decoded.exitCode, decoded.stderr).toBe(0);
    expect(JSON.parse(decoded.stdout)).toMatchObject({ measurements: [{ name: 'launch-measurement', alg: 7, digest: expected }] });
  });

  it('a configured igvmmeasure is used, and a disagreement with the native digest is a warning on stderr naming both', async () => {
    const other = 'ab'.repeat(48);
    writeFileSync(file('igvmmeasure'), `#!/bin/sh\necho ${other}\n`);
    chmodSync(file('igvmmeasure'), 0o755);
    const result = await run(['attestation-policy', '--format', 'json'], { ...snp, MANAGER_IGVMMEASURE_BINARY: file('igvmmeasure') });
    expect(result.exitCode, text(result.stderr)).toBe(0);
    expect(Buffer.from((JSON.parse(text(result.stdout)) as { policy: { measurement: string } }).policy.measurement, 'base64').toString('hex')).toBe(other);
    const warning = JSON.parse(text(result.stderr).trim().split('\n')[0] ?? '{}') as Record<string, unknown>;
    expect(warning).toMatchObject({
      level: 40,
      igvmmeasureDigest: other,
      nativeDigest: expected,
      msg: expect.stringMatching(/^igvmmeasure and the native measurement disagree/),
    });
  });

  it('a corrupt IGVM file is a one-line error naming the file and the problem', async () => {
    const corrupt = Buffer.from(readFileSync(file('ovmf.igvm')));
    corrupt[40] = (corrupt[40] as number) ^ 0xff;
    writeFileSync(file('corrupt.igvm'), corrupt);
    const result = await run(['attestation-policy', '--format', 'json'], { ...snp, MANAGER_QEMU_IGVM_FILE: file('corrupt.igvm') });
    expect(result.exitCode).toBe(2);
    expect(text(result.stderr)).toMatch(
      new RegExp(`^cocos-manager: ${file('corrupt.igvm')}: bad header checksum: the file says 0x[0-9a-f]+, the fixed and variable headers give 0x[0-9a-f]+$`),
    );
  });
});

describe('TDX: the MRTD is computed from the firmware, and MANAGER_MRTD must agree with it', () => {
  const mrtd = mrtdReference(ovmf);
  const tdx = { MANAGER_QEMU_ENABLE_TDX: 'true' };
  it('MANAGER_MRTD equal to the computed MRTD is accepted', async () => {
    const result = await run(['attestation-policy', '--format', 'json'], { ...tdx, MANAGER_MRTD: mrtd.toUpperCase() });
    expect(result.exitCode, text(result.stderr)).toBe(0);
    const body = (JSON.parse(text(result.stdout)) as { policy: { tdQuoteBodyPolicy: { mrTd: string } } }).policy.tdQuoteBodyPolicy;
    expect(Buffer.from(body.mrTd, 'base64').toString('hex')).toBe(mrtd);
  });
  it('a MANAGER_MRTD that differs is a one-line start-up error naming both', async () => {
    const result = await run(['attestation-policy', '--format', 'json'], { ...tdx, MANAGER_MRTD: '44'.repeat(48) });
    expect(result.exitCode).toBe(2);
    expect(text(result.stderr)).toBe(
      `cocos-manager: MANAGER_MRTD=${'44'.repeat(48)} does not match the MRTD of MANAGER_QEMU_OVMF_FILE="/usr/share/ovmf/OVMF.fd", computed from its TDVF metadata: ${mrtd} (unset MANAGER_MRTD to use the computed value, or fix the firmware path)`,
    );
  });
});
