import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDigest, measureLaunch, measureOptionsFromFlags, MeasureError, MeasureErrorCode } from '../src/index.js';
import { argvOf, flagsOf, reference, vectorFiles } from './reference-vectors.js';

const files = vectorFiles();
afterAll(() => rmSync(files.dir, { recursive: true, force: true }));

const measure = async (args: readonly string[]) => {
  const { options, outputFormat } = measureOptionsFromFlags(flagsOf(argvOf(args, files)));
  return formatDigest((await measureLaunch(options)).digest, outputFormat);
};

describe(`the committed ${reference.tool.name} vectors (commit ${reference.tool.commit.slice(0, 8)})`, () => {
  it('cover at least 12 SNP/SEV-ES/SEV combinations on Debian OVMF.fd and the kernel-hashes cases', () => {
    const debian = reference.vectors.filter((v) => v.args.includes('{debian-ovmf}'));
    expect(debian.length).toBeGreaterThanOrEqual(12);
    for (const mode of ['snp', 'seves', 'sev']) expect(debian.some((v) => v.args[1] === mode)).toBe(true);
    expect(reference.vectors.filter((v) => v.args.includes('{kernel}')).length).toBeGreaterThanOrEqual(4);
  });

  it.each(reference.vectors.map((v) => [v.name, v] as const))('%s', async (_name, vector) => {
    expect(await measure(vector.args), vector.command).toBe(vector.output);
  });

  it.each(reference.errors.map((e) => [e.name, e] as const))('refused like the reference tool: %s', async (_name, vector) => {
    const err = await measure(vector.args).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MeasureError);
    expect((err as MeasureError).measureCode).toBe(MeasureErrorCode.NoKernelHashes);
    expect((err as Error).message).toMatch(/^\/usr\/share\/ovmf\/OVMF\.fd: a kernel is given, but the SEV metadata has no KERNEL_HASHES section/);
    expect(vector.stderr).toMatch(/doesn't include SNP_KERNEL_HASHES section/);
  });

  it('a changed firmware changes the digest (the vectors would catch a measurement that ignores the image)', async () => {
    const vector = reference.vectors.find((v) => v.name === 'snp test firmware, 4 vCPUs EPYC-v4, no kernel');
    const changed = await measure((vector?.args ?? []).map((a) => (a === '{sev-test-firmware}' ? '{debian-ovmf}' : a)));
    expect(changed).not.toBe(vector?.output);
  });
});
