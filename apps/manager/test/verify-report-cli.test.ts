// `cocos-manager verify-report`, the real built binary: reports built and
// signed in the test against the policy this manager gives its SEV-SNP VMs,
// and a public report from google/go-sev-guest.
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildSnpReport,
  igvmFromOvmf,
  makeTestAmdChain,
  milanTcb,
  pageFromRuns,
  signSnpReport,
  type SnpReportFields,
  type TestAmdChain,
} from '@cocos-manager/testing';
import { MAIN, REPO } from './harness.js';

const VECTORS = path.join(REPO, 'packages/measure/test/vectors');
const vectors = JSON.parse(readFileSync(path.join(VECTORS, 'sev-snp-measure.json'), 'utf8')) as {
  vmsas: Array<{ vcpuType: string; guestFeatures: string; bsp: Array<[number, string]> }>;
  igvmDefaultZeroRule: { vectors: Array<{ vcpus: number; vcpuType: string; output: string }> };
};
const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-verify-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);

// The VM: one EPYC-v4 vCPU booting an IGVM made from Debian's OVMF.fd; its digest is the reference's.
const vmsa = pageFromRuns(vectors.vmsas.find((v) => v.vcpuType === 'EPYC-v4' && v.guestFeatures === '0x1')?.bsp ?? []);
writeFileSync(file('vm.igvm'), igvmFromOvmf(readFileSync('/usr/share/ovmf/OVMF.fd'), { vmsas: [vmsa] }));
const measurement = Buffer.from(vectors.igvmDefaultZeroRule.vectors.find((v) => v.vcpus === 1 && v.vcpuType === 'EPYC-v4')?.output ?? '', 'hex');
const hostData = Buffer.alloc(32, 0x42);
const env = {
  MANAGER_QEMU_ENABLE_SEV_SNP: 'true',
  MANAGER_QEMU_IGVM_FILE: file('vm.igvm'),
  MANAGER_QEMU_ENABLE_HOST_DATA: 'true',
  MANAGER_QEMU_HOST_DATA: hostData.toString('base64'),
  MANAGER_SEV_SNP_MINIMUM_LAUNCH_TCB: milanTcb({ bootloader: 2, tee: 0, snp: 6, microcode: 100 }).toString(),
  // The TCBs here are laid out as Milan's: without it the product is this host's CPU's (a Turin lays them out otherwise).
  MANAGER_SEV_SNP_PRODUCT: 'Milan',
};
const tcb = milanTcb({ bootloader: 3, tee: 0, snp: 8, microcode: 115 });
const good: SnpReportFields = { measurement, hostData, policy: 0x30000n, currentTcb: tcb, reportedTcb: tcb, committedTcb: tcb, launchTcb: tcb };

let chain: TestAmdChain;
let other: TestAmdChain;
beforeAll(async () => {
  [chain, other] = await Promise.all([makeTestAmdChain(dir), makeTestAmdChain(dir, 'other-')]);
});
let n = 0;
function report(fields: SnpReportFields, afterSigning?: (r: Buffer) => void): string {
  const r = signSnpReport(buildSnpReport(fields), createPrivateKey(readFileSync(chain.file('vcek.key'))));
  afterSigning?.(r);
  const name = file(`report-${(n += 1)}.bin`);
  writeFileSync(name, r);
  return name;
}
const verify = (args: string[], extra: Record<string, string> = env) =>
  execa('node', [MAIN, 'verify-report', ...args], {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', MANAGER_RUN_DIR: file('run'), MANAGER_STATE_DIR: file('state'), ...extra },
    extendEnv: false,
    reject: false,
  });
const certs = (c = () => chain) => ['--vcek', c().file('vcek.pem'), '--ask', c().file('ask.pem'), '--ark', c().file('ark.pem')];

describe('verify-report against the policy this manager gives its SEV-SNP VMs', () => {
  it('a report with the computed measurement, signed by a test VCEK chained to a test ASK/ARK, verifies', async () => {
    const result = await verify(['--report', report(good), ...certs()]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(
      'verified: measurement, hostData, policy, vmpl, familyId, imageId, minimumGuestSvn, minimumTcb, minimumLaunchTcb, signature, chain',
    );
  });

  it.each([
    ['measurement', { measurement: Buffer.alloc(48, 9) }],
    ['host_data', { hostData: Buffer.alloc(32, 9) }],
    ['policy', { policy: 0x30000n | (1n << 19n) }],
    ['launch_tcb', { launchTcb: milanTcb({ bootloader: 2, tee: 0, snp: 5, microcode: 100 }) }],
  ] as const)('%s changed: exit 1, naming that field', async (field, change) => {
    const result = await verify(['--report', report({ ...good, ...change }), ...certs()]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split('\n')).toEqual([expect.stringMatching(new RegExp(`^cocos-manager: report ${field}: `))]);
  });

  it('the policy mismatch names the bit', async () => {
    const result = await verify(['--report', report({ ...good, policy: 0x30000n | (1n << 19n) }), ...certs()]);
    expect(result.stderr).toBe('cocos-manager: report policy: report 0xb0000, expected 0x30000 (report vs expected: DEBUG (bit 19) 1 vs 0)');
  });

  it('a signature byte changed: exit 1, naming the signature', async () => {
    const result = await verify(['--report', report(good, (r) => (r[0x2a0 + 9] = (r[0x2a0 + 9] as number) ^ 0x80)), ...certs()]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^cocos-manager: report signature: does not verify with the VCEK/);
  });

  it('a wrong chain: exit 1, naming the chain', async () => {
    const result = await verify(['--report', report(good), '--vcek', chain.file('vcek.pem'), '--ask', other.file('ask.pem'), '--ark', chain.file('ark.pem')]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split('\n')).toEqual([
      expect.stringMatching(/^cocos-manager: report chain: the VCEK is not signed by the given issuer/),
      expect.stringMatching(/^cocos-manager: report chain: the ASK is not signed by the given issuer/),
    ]);
  });
});

describe('a public report (google/go-sev-guest verify/testdata) and bad input', () => {
  const pub = (name: string) => path.join(VECTORS, 'go-sev-guest', name);
  const publicCerts = ['--vcek', pub('vcek.testcer'), '--ask', pub('ask_ark_milan.pem'), '--ark', pub('ask_ark_milan.pem')];
  it('--no-policy: its signature and chain verify', async () => {
    const result = await verify(['--report', pub('attestation.bin'), ...publicCerts, '--no-policy'], {});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('verified: signature, chain');
  });
  it("against this manager's policy: every differing field is named", async () => {
    const result = await verify(['--report', pub('attestation.bin'), ...publicCerts]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split('\n').map((l) => /^cocos-manager: report (\w+):/.exec(l)?.[1])).toEqual(['measurement', 'host_data', 'policy', 'launch_tcb']);
  });
  it.each([
    [[], {}, 'cocos-manager: missing --report FILE'],
    [['--report', 'r.bin', '--ask', 'a.pem'], {}, 'cocos-manager: --ask and --ark check the chain of --vcek: give --vcek too'],
    [['--report', 'r.bin'], {}, 'cocos-manager: plain VMs carry no attestation: there is no TEE measurement to verify (run a sev, sev-snp or tdx backend)'],
  ])('%j: exit 2 with one line', async (args, extra, message) => {
    const result = await verify(args, extra);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(message);
  });
  it('a file that is not a report: exit 2 naming it', async () => {
    writeFileSync(file('short.bin'), Buffer.alloc(100));
    const result = await verify(['--report', file('short.bin'), '--no-policy'], {});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`cocos-manager: ${file('short.bin')}: 100 bytes, but an SEV-SNP attestation report (version 2 and later) is 1184 bytes (0x4a0)`);
  });
});
