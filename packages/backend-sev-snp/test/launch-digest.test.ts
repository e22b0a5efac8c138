import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coreSettings, ErrorCode, ManagerError, type LaunchMeasurementRequest, type LaunchMeasurer, type Logger } from '@cocos-manager/core';
import { loadManagerConfig } from '@cocos-manager/core/internal';
import { SnpLaunchDigest, sevSnpSettings } from '../src/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'cm-snp-digest-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const config = (env: Record<string, string> = {}) =>
  loadManagerConfig(
    [
      { owner: '@cocos-manager/core', slice: coreSettings },
      { owner: '@cocos-manager/backend-sev-snp', slice: sevSnpSettings },
    ],
    env,
  );
const native = 'c1'.repeat(48);
const external = 'e2'.repeat(48);
const igvmmeasure = (name: string, digest: string) => {
  const file = path.join(root, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\necho ${digest}\n`);
  chmodSync(file, 0o755);
  return file;
};

/** LAUNCH_MEASURER as a backend sees it: a double that records the requests and answers a fixed digest (or fails). */
function measurer(answer: string | Error) {
  const requests: LaunchMeasurementRequest[] = [];
  const double: LaunchMeasurer = {
    measure: async (request) => {
      requests.push(request);
      if (answer instanceof Error) throw answer;
      return { digest: Buffer.from(answer, 'hex'), warnings: [] };
    },
  };
  return { double, requests };
}
function logger() {
  const warnings: Array<[Record<string, unknown>, string]> = [];
  return { warnings, logger: { warn: (fields: Record<string, unknown>, msg: string) => warnings.push([fields, msg]) } as unknown as Logger };
}

describe('the SNP launch digest source', () => {
  it("no igvmmeasure configured: the native digest of the IGVM file, with igvmmeasure's default zero rule", async () => {
    const m = measurer(native);
    const digest = await new SnpLaunchDigest(config(), m.double).of('/fw/svsm.igvm');
    expect(digest.toString('hex')).toBe(native);
    expect(m.requests).toEqual([{ mode: 'snp', igvm: '/fw/svsm.igvm' }]);
  });

  it.each([
    ['MANAGER_IGVMMEASURE_BINARY', (bin: string) => ({ MANAGER_IGVMMEASURE_BINARY: bin })],
    ['MANAGER_ATTESTATION_POLICY_BINARY_PATH', (bin: string) => ({ MANAGER_ATTESTATION_POLICY_BINARY_PATH: path.dirname(bin) })],
  ])('igvmmeasure configured by %s: its digest, cross-checked with a warning naming both', async (name, env) => {
    const bin = igvmmeasure(`${name}/igvmmeasure`, external);
    const m = measurer(native);
    const log = logger();
    const digest = await new SnpLaunchDigest(config(env(bin)), m.double, log.logger).of('/fw/svsm.igvm');
    expect(digest.toString('hex')).toBe(external);
    expect(m.requests).toHaveLength(1);
    expect(log.warnings).toEqual([
      [
        expect.objectContaining({ igvmmeasureDigest: external, nativeDigest: native }),
        expect.stringMatching(/^igvmmeasure and the native measurement disagree/),
      ],
    ]);
  });

  it('agreeing answers give no warning', async () => {
    const log = logger();
    await new SnpLaunchDigest(config({ MANAGER_IGVMMEASURE_BINARY: igvmmeasure('same', native) }), measurer(native).double, log.logger).of('/fw/x.igvm');
    expect(log.warnings).toEqual([]);
  });

  it("a file the native engine cannot measure: igvmmeasure's answer, with a warning that it could not be cross-checked", async () => {
    const log = logger();
    const failing = measurer(new ManagerError('ATTESTATION_UNAVAILABLE', '/fw/x.igvm: bad header checksum'));
    const digest = await new SnpLaunchDigest(config({ MANAGER_IGVMMEASURE_BINARY: igvmmeasure('ext2', external) }), failing.double, log.logger).of(
      '/fw/x.igvm',
    );
    expect(digest.toString('hex')).toBe(external);
    expect(log.warnings[0]?.[1]).toBe("cannot cross-check igvmmeasure's launch digest natively: /fw/x.igvm: bad header checksum");
  });

  it("the native engine refusing a file (no igvmmeasure configured) is the policy's error", async () => {
    const failing = measurer(new ManagerError('ATTESTATION_UNAVAILABLE', '/fw/x.igvm: not an IGVM file'));
    const err = await new SnpLaunchDigest(config(), failing.double).of('/fw/x.igvm').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.FailedPrecondition, message: '/fw/x.igvm: not an IGVM file' });
  });

  it('without a measurer (a build without @cocos-manager/measure): igvmmeasure at its default place, as before', async () => {
    const err = await new SnpLaunchDigest(config()).of('/fw/x.igvm').catch((e: unknown) => e);
    // The operator's detail names the binary; the client's message names no path.
    expect((err as ManagerError).detail).toMatch(/^igvmmeasure "\.\.\/\.\.\/build\/igvmmeasure" could not run/);
    expect((err as Error).message).not.toMatch(/\//);
  });
});
