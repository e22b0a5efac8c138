// `cocos-manager measure`, the real built binary, against the committed
// sev-snp-measure vectors, IGVM files written by the test kit, and an MRTD
// derivation from the TDX module specification.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSevTestFirmware, igvmFromOvmf, mrtdReference, pageFromRuns, testBootFile } from '@cocos-manager/testing';
import { MAIN, REPO } from './harness.js';

interface Vector {
  name: string;
  args: string[];
  command: string;
  output: string;
}
interface Vectors {
  firmware: Record<string, { sha256: string; debianVersion?: string }>;
  bootFiles: Record<string, { sha256: string }>;
  vectors: Vector[];
  errors: Array<{ name: string; args: string[] }>;
  vmsas: Array<{ vcpuType: string; guestFeatures: string; bsp: Array<[number, string]>; ap: Array<[number, string]> }>;
  igvmDefaultZeroRule: { vectors: Array<{ vcpus: number; vcpuType: string; guestFeatures: string; output: string }> };
}
const vectors = JSON.parse(readFileSync(path.join(REPO, 'packages/measure/test/vectors/sev-snp-measure.json'), 'utf8')) as Vectors;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-measure-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const ovmf = readFileSync('/usr/share/ovmf/OVMF.fd');
const placeholders: Record<string, string> = { '{debian-ovmf}': '/usr/share/ovmf/OVMF.fd' };
for (const [name, data, expected] of [
  ['sev-test-firmware', buildSevTestFirmware(), vectors.firmware['sev-test-firmware']?.sha256],
  ['kernel', testBootFile('kernel', 200000), vectors.bootFiles['kernel']?.sha256],
  ['initrd', testBootFile('initrd', 70001), vectors.bootFiles['initrd']?.sha256],
] as const) {
  writeFileSync(file(name), data);
  placeholders[`{${name}}`] = file(name);
  placeholders[`sha256:${name}`] = sha256(data) === expected ? 'ok' : `the generated ${name} has sha256 ${sha256(data)}, not the recorded ${expected}`;
}
const firmwareCheck = () => {
  const debian = vectors.firmware['debian-ovmf'];
  expect(sha256(ovmf), `/usr/share/ovmf/OVMF.fd is not the ovmf ${debian?.debianVersion} the vectors were taken on: regenerate them`).toBe(debian?.sha256);
  for (const name of ['sev-test-firmware', 'kernel', 'initrd']) expect(placeholders[`sha256:${name}`]).toBe('ok');
};

const measure = (args: string[]) =>
  execa('node', [MAIN, 'measure', ...args], { env: { PATH: process.env['PATH'] ?? '' }, extendEnv: false, reject: false, cwd: dir });
const oneLine = (stderr: string) => expect(stderr.trim().split('\n')).toHaveLength(1);

/**
 * Every vector's shape — its mode, the flags it gives, the firmware it names —
 * through the binary once (the first vector of each); all of them are
 * reproduced in-process by packages/measure/test/ovmf-vectors.test.ts. What
 * the binary adds is the command line: its flags, its output, its exit codes.
 */
const shapeOf = (v: Vector) => {
  const mode = v.args[v.args.indexOf('--mode') + 1];
  return [mode, ...v.args.filter((a) => a.startsWith('--')).sort(), ...v.args.filter((a) => a.startsWith('{'))].join(' ');
};
const oneOfEachShape = vectors.vectors.filter((v, i, all) => all.findIndex((w) => shapeOf(w) === shapeOf(v)) === i);

describe('cocos-manager measure reproduces the committed sev-snp-measure vectors, one of each shape', () => {
  it('covers every shape of the vectors', () => {
    expect(new Set(oneOfEachShape.map(shapeOf))).toEqual(new Set(vectors.vectors.map(shapeOf)));
    expect(oneOfEachShape.length).toBeGreaterThanOrEqual(12);
  });

  it.each(oneOfEachShape.map((v) => [v.name, v] as const))('%s', async (_name, vector) => {
    firmwareCheck();
    const result = await measure(vector.args.map((a) => placeholders[a] ?? a));
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout, vector.command).toBe(vector.output);
  });

  it.each(vectors.errors.map((e) => [e.name, e] as const))('refuses like sev-snp-measure: %s (exit 2, one line)', async (_name, vector) => {
    const result = await measure(vector.args.map((a) => placeholders[a] ?? a));
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'cocos-manager: /usr/share/ovmf/OVMF.fd: a kernel is given, but the SEV metadata has no KERNEL_HASHES section: this OVMF cannot verify a direct kernel boot (use an AmdSev build of OVMF)',
    );
  });
});

describe('IGVM files written by the test kit from OVMF.fd', () => {
  const vmsas = (type: string, features: string, count: number) => {
    const entry = vectors.vmsas.find((v) => v.vcpuType === type && v.guestFeatures === features);
    return Array.from({ length: count }, (_, i) => pageFromRuns((i === 0 ? entry?.bsp : entry?.ap) ?? []));
  };
  it.each([
    [4, 'EPYC-v4', '0x1', 'snp, 4 vCPUs EPYC-v4'],
    [2, 'EPYC-Milan', '0x21', 'snp, 2 vCPUs EPYC-Milan, features 0x21'],
  ] as const)('--native-zero: %i vCPUs %s, features %s equal the OVMF digest', async (count, type, features, name) => {
    firmwareCheck();
    writeFileSync(file(`${name}.igvm`), igvmFromOvmf(ovmf, { vmsas: vmsas(type, features, count) }));
    const result = await measure(['--mode', 'snp', '--igvm', file(`${name}.igvm`), '--native-zero']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(vectors.vectors.find((v) => v.name === name)?.output);
  });
  it.each(vectors.igvmDefaultZeroRule.vectors)("igvmmeasure's default rule: $vcpus vCPU(s) $vcpuType, features $guestFeatures", async (v) => {
    firmwareCheck();
    writeFileSync(file('default.igvm'), igvmFromOvmf(ovmf, { vmsas: vmsas(v.vcpuType, v.guestFeatures, v.vcpus) }));
    const result = await measure(['--mode', 'snp', '--igvm', file('default.igvm')]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(v.output);
  });
  it('loader disagreements are warnings on stderr; the digest alone stays on stdout', async () => {
    writeFileSync(file('2m.igvm'), igvmFromOvmf(ovmf, { vmsas: vmsas('EPYC-v4', '0x1', 1), pageSize: '2m' }));
    const result = await measure(['--mode', 'snp', '--igvm', file('2m.igvm'), '--native-zero']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(vectors.vectors.find((v) => v.name === 'snp, 1 vCPU EPYC-v4')?.output);
    expect(result.stderr).toMatch(/^cocos-manager: warning: 2 MB PAGE_DATA at 0xffe00000 carries file data/);
  });
});

describe('TDX MRTD', () => {
  it.each(['single-pass', 'two-pass'])("of Debian's OVMF.fd (%s) equals the derivation from Intel's TDX module specification", async (order) => {
    const result = await measure(['--mode', 'tdx', '--ovmf', '/usr/share/ovmf/OVMF.fd', '--tdx-page-add-order', order]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(mrtdReference(ovmf, order as 'single-pass' | 'two-pass'));
  });
});

describe('bad files and bad flags: one line on stderr naming the file and the problem, exit 2', () => {
  const whole = igvmFromOvmf(ovmf, { vmsas: [] });
  const igvm = () => Buffer.from(whole);
  it.each([
    ['truncated', () => igvm().subarray(0, 1000), /: the fixed header gives a total size of \d+ bytes, but the file has 1000 \(truncated or padded\)$/],
    ['wrong magic', () => Buffer.from('\x7fELF not an IGVM file'), /: not an IGVM file: it does not start with the "IGVM" magic \(found "\\x7fELF"\)$/],
    [
      'bad CRC',
      () => {
        const f = igvm();
        f[24 + 8] = (f[24 + 8] as number) ^ 0x10;
        return f;
      },
      /: bad header checksum: the file says 0x[0-9a-f]+, the fixed and variable headers give 0x[0-9a-f]+$/,
    ],
  ])('IGVM %s', async (name, make, message) => {
    writeFileSync(file(`${name}.igvm`), make());
    const result = await measure(['--mode', 'snp', '--igvm', file(`${name}.igvm`)]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    oneLine(result.stderr);
    expect(result.stderr).toMatch(new RegExp(`^cocos-manager: ${file(`${name}.igvm`)}${message.source}`));
  });
  it.each([
    [
      'no SEV metadata',
      ['--mode', 'snp', '--vcpus', '1', '--vcpu-type', 'EPYC', '--ovmf'],
      buildSevTestFirmware({ noFooter: true }),
      /: no OVMF footer table .*, so no SEV metadata/,
    ],
    [
      'no TDVF metadata',
      ['--mode', 'tdx', '--ovmf'],
      buildSevTestFirmware(),
      /: no TDVF metadata \(footer-table entry e47a6535-984a-4798-865e-4685a7bf8ec2\): not an OVMF built for TDX$/,
    ],
  ])('firmware with %s', async (name, args, data, message) => {
    writeFileSync(file(`${name}.fd`), data);
    const result = await measure([...args, file(`${name}.fd`)]);
    expect(result.exitCode).toBe(2);
    oneLine(result.stderr);
    expect(result.stderr).toMatch(new RegExp(`^cocos-manager: ${file(`${name}.fd`)}${message.source}`));
  });
  it.each([
    [['--mode', 'snp', '--ovmf', 'x.fd', '--vcpus', '2', '--vcpu-type', 'EPYC-Zen9'], /^cocos-manager: unknown vCPU type "EPYC-Zen9": expected one of EPYC, /],
    [['--mode', 'snp', '--ovmf', 'x.fd', '--vcpu-type', 'EPYC'], /^cocos-manager: missing --vcpus N in mode snp$/],
    [['--mode', 'snp', '--igvm', 'x.igvm', '--kernel', 'k'], /^cocos-manager: --kernel applies to OVMF direct boot/],
    [['--mode', 'snp', '--frobnicate'], /^error: unknown option '--frobnicate'/],
  ])('%j', async (args, message) => {
    const result = await measure(args);
    expect(result.exitCode).toBe(2);
    oneLine(result.stderr);
    expect(result.stderr).toMatch(message);
  });
});
