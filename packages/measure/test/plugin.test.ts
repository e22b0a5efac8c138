import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, LAUNCH_MEASURER, ManagerError, resolveToken } from '@cocos-manager/core';
import { createLogger, Manager } from '@cocos-manager/core/internal';
import { writeIgvm, IgvmPageFlag, IgvmPlatformType } from '@cocos-manager/testing';
import { MeasureError, MeasureErrorCode, measurePlugin, NativeLaunchMeasurer, OnDemandMeasurer } from '../src/index.js';
import { DEBIAN_OVMF, debianOvmf, reference } from './reference-vectors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-measure-plugin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const copy = path.join(dir, 'OVMF.fd');
writeFileSync(copy, debianOvmf());
const vector = (name: string) => reference.vectors.find((v) => v.name === name)?.output;
const hex = (d: Uint8Array) => Buffer.from(d).toString('hex');

describe('the measure plugin', () => {
  it("provides core's LAUNCH_MEASURER, whose engine is loaded at the first measurement and kept", async () => {
    const manager = Manager.create({ plugins: [measurePlugin], env: {}, logger: createLogger('silent') });
    const measurer = resolveToken(manager.container, LAUNCH_MEASURER);
    expect(measurer).toBeInstanceOf(OnDemandMeasurer);
    const request = { mode: 'snp', ovmf: DEBIAN_OVMF, vcpus: 2, vcpuType: 'EPYC-v4' } as const;
    expect(hex((await measurer.measure(request)).digest)).toBe(vector('snp, 2 vCPUs EPYC-v4'));
    expect(hex((await measurer.measure(request)).digest)).toBe(vector('snp, 2 vCPUs EPYC-v4'));
    // One engine behind it: the second answer came from the first one's cache.
    const engine = await (measurer as OnDemandMeasurer).loaded();
    expect(engine).toBeInstanceOf(NativeLaunchMeasurer);
    expect((engine as NativeLaunchMeasurer).computations).toBe(1);
  });

  it("the engine's refusal reaches the caller as LAUNCH_MEASUREMENT_FAILED through the on-demand measurer", async () => {
    const measurer = new OnDemandMeasurer(null);
    const bad = path.join(dir, 'not-igvm.igvm');
    writeFileSync(bad, 'MZ not igvm');
    const err = await measurer.measure({ mode: 'snp', igvm: bad }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManagerError);
    expect(err).toMatchObject({ kind: 'LAUNCH_MEASUREMENT_FAILED', code: ErrorCode.FailedPrecondition });
  });

  it('caches per file identity and parameters, with one computation in flight per key', async () => {
    const measurer = new NativeLaunchMeasurer(null);
    const request = { mode: 'snp' as const, ovmf: copy, vcpus: 1, vcpuType: 'EPYC-v4' };
    const [a, b] = await Promise.all([measurer.measure(request), measurer.measure(request)]);
    expect(measurer.computations).toBe(1);
    expect(hex(a.digest)).toBe(vector('snp, 1 vCPU EPYC-v4'));
    expect(hex(b.digest)).toBe(hex(a.digest));
    await measurer.measure(request);
    expect(measurer.computations).toBe(1);
    // Other parameters: another computation.
    expect(hex((await measurer.measure({ ...request, vcpus: 4 })).digest)).toBe(vector('snp, 4 vCPUs EPYC-v4'));
    expect(measurer.computations).toBe(2);
    // The same path and size with other contents (a new mtime): measured again.
    const edited = readFileSync(copy);
    edited[0x1000] = (edited[0x1000] as number) ^ 1;
    writeFileSync(copy, edited);
    utimesSync(copy, new Date(), new Date(Date.now() + 5000));
    const changed = await measurer.measure(request);
    expect(measurer.computations).toBe(3);
    expect(hex(changed.digest)).not.toBe(hex(a.digest));
  });

  it('a file it cannot measure is FAILED_PRECONDITION naming the file, with the engine error as cause; failures are not cached', async () => {
    const measurer = new NativeLaunchMeasurer(null);
    const bad = path.join(dir, 'bad.igvm');
    writeFileSync(bad, 'MZ not igvm');
    for (let i = 1; i <= 2; i += 1) {
      const err = await measurer.measure({ mode: 'snp', igvm: bad }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ManagerError);
      expect(err).toMatchObject({
        code: ErrorCode.FailedPrecondition,
        message: `${bad}: not an IGVM file: it does not start with the "IGVM" magic (found "MZ n")`,
      });
      expect((err as Error).cause).toBeInstanceOf(MeasureError);
      expect(((err as Error).cause as MeasureError).measureCode).toBe(MeasureErrorCode.NotIgvm);
      expect(measurer.computations).toBe(i);
    }
  });

  it('logs the warnings of a computation once, and returns them', async () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => lines.push(line) });
    const measurer = new NativeLaunchMeasurer(logger);
    const file = path.join(dir, 'shared.igvm');
    writeFileSync(
      file,
      writeIgvm({
        platforms: [{ mask: 1, platformType: IgvmPlatformType.SevSnp }],
        directives: [{ kind: 'page', gpa: 0, mask: 1, flags: IgvmPageFlag.Shared }],
      }),
    );
    const first = await measurer.measure({ mode: 'snp', igvm: file });
    await measurer.measure({ mode: 'snp', igvm: file });
    expect(first.warnings).toHaveLength(1);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: 40,
      files: [file],
      msg: expect.stringMatching(/^launch measurement: PAGE_DATA at 0x0 is marked shared/),
    });
  });
});
