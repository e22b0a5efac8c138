import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSnpReport, makeTestAmdChain, milanTcb, signSnpReport, type SnpReportFields, type TestAmdChain } from '@cocos-manager/testing';
import { MeasureError, MeasureErrorCode, parseSnpReport, signingKeyOf, verifySnpReport, type SnpReportExpectations } from '../src/index.js';
import { reference } from './reference-vectors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PUBLIC = path.join(import.meta.dirname, 'vectors', 'go-sev-guest');

// The computed measurement of a 1-vCPU EPYC-v4 guest booting Debian's OVMF.fd.
const measurement = Buffer.from(reference.vectors.find((v) => v.name === 'snp, 1 vCPU EPYC-v4')?.output ?? '', 'hex');
const hostData = Buffer.alloc(32, 0x5a);
const tcb = milanTcb({ bootloader: 3, tee: 0, snp: 8, microcode: 115 });
const expected: SnpReportExpectations = {
  measurement,
  hostData,
  policy: 0x30000n,
  vmpl: 0,
  familyId: Buffer.alloc(16),
  imageId: Buffer.alloc(16),
  minimumGuestSvn: 0,
  minimumTcb: milanTcb({ bootloader: 3, tee: 0, snp: 8, microcode: 115 }),
  minimumLaunchTcb: milanTcb({ bootloader: 2, tee: 0, snp: 6, microcode: 100 }),
  product: 'Milan',
};
const good: SnpReportFields = { measurement, hostData, policy: 0x30000n, currentTcb: tcb, reportedTcb: tcb, committedTcb: tcb, launchTcb: tcb };

let chain: TestAmdChain;
let other: TestAmdChain;
beforeAll(async () => {
  [chain, other] = await Promise.all([makeTestAmdChain(dir), makeTestAmdChain(dir, 'other-')]);
});
let n = 0;
/** A report signed by `signer`'s VCEK key (default: the chain's), with one edit after signing if given. */
function reportFile(fields: SnpReportFields, signer: () => TestAmdChain = () => chain, afterSigning?: (r: Buffer) => void): string {
  const report = signSnpReport(buildSnpReport(fields), createPrivateKey(readFileSync(signer().file('vcek.key'))));
  afterSigning?.(report);
  const file = path.join(dir, `report-${(n += 1)}.bin`);
  writeFileSync(file, report);
  return file;
}
const certs = (c: () => TestAmdChain = () => chain) => ({ vcek: c().file('vcek.pem'), ask: c().file('ask.pem'), ark: c().file('ark.pem') });

describe('verify-report: a report built and signed in the test', () => {
  it('with the computed measurement, signed by a test VCEK chained to a test ASK and ARK, passes', async () => {
    const result = await verifySnpReport({ report: reportFile(good), ...certs() }, expected);
    expect(result.mismatches).toEqual([]);
    expect(result.checked).toEqual(expect.arrayContaining(['measurement', 'hostData', 'policy', 'minimumTcb', 'minimumLaunchTcb', 'signature', 'chain']));
  });

  it.each([
    ['measurement', { measurement: Buffer.alloc(48, 1) }, /^report (01){48}, expected [0-9a-f]{96}$/],
    ['host_data', { hostData: Buffer.alloc(32, 1) }, /^report (01){32}, expected (5a){32}$/],
    ['policy', { policy: 0xb0000n }, /^report 0xb0000, expected 0x30000 \(report vs expected: DEBUG \(bit 19\) 1 vs 0\)$/],
    ['vmpl', { vmpl: 2 }, /^report 2, expected 0$/],
    ['family_id', { familyId: Buffer.alloc(16, 7) }, /^report (07){16}, expected (00){16}$/],
    [
      'launch_tcb',
      { launchTcb: milanTcb({ bootloader: 2, tee: 0, snp: 5, microcode: 100 }) },
      /^snp 5 < 6 \(report bootloader 2, tee 0, snp 5, microcode 100; minimum bootloader 2, tee 0, snp 6, microcode 100\)$/,
    ],
    ['reported_tcb', { reportedTcb: milanTcb({ bootloader: 3, tee: 0, snp: 8, microcode: 114 }) }, /^microcode 114 < 115 /],
  ] as const)('%s changed fails naming that field', async (field, change, problem) => {
    const result = await verifySnpReport({ report: reportFile({ ...good, ...change }), ...certs() }, expected);
    expect(result.mismatches).toEqual([{ field, problem: expect.stringMatching(problem) }]);
  });

  it('a signature byte changed fails naming the signature', async () => {
    const file = reportFile(good, undefined, (r) => (r[0x2a0 + 5] = (r[0x2a0 + 5] as number) ^ 1));
    expect((await verifySnpReport({ report: file, ...certs() }, expected)).mismatches).toEqual([
      { field: 'signature', problem: expect.stringMatching(/^does not verify with the VCEK/) },
    ]);
  });

  it('a signed byte changed after signing fails naming the signature (and the field)', async () => {
    const file = reportFile(good, undefined, (r) => (r[0x90] = (r[0x90] as number) ^ 1));
    expect((await verifySnpReport({ report: file, ...certs() }, expected)).mismatches.map((m) => m.field)).toEqual(['measurement', 'signature']);
  });

  it('a report signed by another VCEK fails naming the signature', async () => {
    expect((await verifySnpReport({ report: reportFile(good, () => other), ...certs() }, expected)).mismatches.map((m) => m.field)).toEqual(['signature']);
  });

  it('a wrong chain fails naming the chain: a VCEK from another ASK, an ASK from another ARK', async () => {
    const wrongAsk = await verifySnpReport({ report: reportFile(good), ...certs(), ask: other.file('ask.pem') }, expected);
    expect(wrongAsk.mismatches).toEqual([
      { field: 'chain', problem: expect.stringMatching(/^the VCEK is not signed by the given issuer/) },
      { field: 'chain', problem: expect.stringMatching(/^the ASK is not signed by the given issuer/) },
    ]);
    const wrongArk = await verifySnpReport({ report: reportFile(good), ...certs(), ark: other.file('ark.pem') }, expected);
    expect(wrongArk.mismatches).toEqual([{ field: 'chain', problem: expect.stringMatching(/^the ASK is not signed by the given issuer \(CN=ARK-Test\)/) }]);
  });

  it('a VCEK that is not a P-384 key is named', async () => {
    const result = await verifySnpReport({ report: reportFile(good), vcek: chain.file('ask.pem') }, null);
    expect(result.mismatches).toEqual([{ field: 'vcek', problem: 'its key is rsa, expected EC P-384' }]);
  });
});

describe('a public report from google/go-sev-guest (verify/testdata)', () => {
  const files = {
    report: path.join(PUBLIC, 'attestation.bin'),
    vcek: path.join(PUBLIC, 'vcek.testcer'),
    ask: path.join(PUBLIC, 'ask_ark_milan.pem'),
    ark: path.join(PUBLIC, 'ask_ark_milan.pem'),
  };
  it('parses as a version 2 report signed by a VCEK', () => {
    const report = parseSnpReport(files.report, readFileSync(files.report));
    expect(report).toMatchObject({ version: 2, policy: 0xb0000n, vmpl: 0, signatureAlgo: 1, currentVersion: '1.49.3' });
    expect(signingKeyOf(report)).toBe('VCEK');
    expect(report.measurement.toString('hex')).toBe('b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01');
  });
  it("verifies with its VCEK and AMD's Milan ASK/ARK", async () => {
    expect(await verifySnpReport(files, null)).toMatchObject({ mismatches: [], checked: ['signature', 'chain'] });
  });
  it('one flipped byte, and it no longer verifies; against our policy, every differing field is named', async () => {
    const flipped = Buffer.from(readFileSync(files.report));
    flipped[0x50] = (flipped[0x50] as number) ^ 1;
    writeFileSync(path.join(dir, 'flipped.bin'), flipped);
    expect((await verifySnpReport({ ...files, report: path.join(dir, 'flipped.bin') }, null)).mismatches.map((m) => m.field)).toEqual(['signature']);
    expect((await verifySnpReport(files, expected)).mismatches.map((m) => m.field)).toEqual([
      'measurement',
      'host_data',
      'policy',
      'current_tcb',
      'committed_tcb',
      'reported_tcb',
      'launch_tcb',
    ]);
  });
});

describe('files that are not reports or certificates', () => {
  it.each([
    ['a short file', Buffer.alloc(1000), /: 1000 bytes, but an SEV-SNP attestation report \(version 2 and later\) is 1184 bytes \(0x4a0\)$/],
    ['version 1', buildSnpReport({ version: 1 }), /: report version 1; this layout is version 2 and later$/],
  ])('%s', async (_name, data, message) => {
    const file = path.join(dir, `bad-${(n += 1)}.bin`);
    writeFileSync(file, data);
    const err = await verifySnpReport({ report: file }, null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MeasureError);
    expect((err as MeasureError).measureCode).toBe(MeasureErrorCode.BadReport);
    expect((err as Error).message).toMatch(new RegExp(`^${file}${message.source}`));
  });
  it('a VCEK that is not a certificate', async () => {
    writeFileSync(path.join(dir, 'junk.pem'), 'not a certificate');
    const err = await verifySnpReport({ report: reportFile(good), vcek: path.join(dir, 'junk.pem') }, null).catch((e: unknown) => e);
    expect(err).toMatchObject({
      measureCode: MeasureErrorCode.BadCertificate,
      message: expect.stringMatching(/junk\.pem: not a PEM or DER X\.509 certificate/),
    });
  });
});
