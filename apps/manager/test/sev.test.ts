// The sev backend (AMD SEV / SEV-ES, seeds/002) through the real binary: its
// argv, its selection among the confidential backends, and its attestation
// policy against the committed sev-snp-measure vectors.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSevTestFirmware, testBootFile } from '@cocos-manager/testing';
import { boot, head, network, pflash, RUN, tail, VM } from './golden-argv.js';
import { MAIN, REPO } from './harness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-sev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[], env: Record<string, string>) =>
  execa('node', [MAIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', MANAGER_RUN_DIR: RUN, MANAGER_STATE_DIR: path.join(dir, 'state'), MANAGER_QEMU_ENABLE_SEV: 'true', ...env },
    extendEnv: false,
    reject: false,
  });
const argv = async (env: Record<string, string> = {}) => {
  const result = await run(['qemu-args'], env);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as string[];
};

/** Seed 002's two SEV elements, verbatim for the default settings. */
const seed002 = ['-object', 'sev-guest,id=sev0,cbitpos=51,reduced-phys-bits=1', '-machine', 'memory-encryption=sev0'];

describe('golden QEMU argv of the sev backend (qemu-args works on any host)', () => {
  it("SEV: the plain backend's pflash drives, then seed 002's sev-guest and memory-encryption", async () => {
    expect(await argv()).toEqual([...head, ...pflash, ...network, ...seed002, ...boot, ...tail]);
  });

  it('SEV-ES: the guest policy with its ES bit (0x5)', async () => {
    expect(await argv({ MANAGER_QEMU_ENABLE_SEV_ES: 'true' })).toEqual([
      ...head,
      ...pflash,
      ...network,
      '-object',
      'sev-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,policy=0x5',
      '-machine',
      'memory-encryption=sev0',
      ...boot,
      ...tail,
    ]);
  });

  it('kernel hashes, and the settings of the object', async () => {
    expect(
      await argv({ MANAGER_QEMU_KERNEL_HASH: 'true', MANAGER_QEMU_SEV_ID: 'sev1', MANAGER_QEMU_SEV_CBITPOS: '47', MANAGER_QEMU_SEV_REDUCED_PHYS_BITS: '5' }),
    ).toEqual([
      ...head,
      ...pflash,
      ...network,
      '-object',
      'sev-guest,id=sev1,cbitpos=47,reduced-phys-bits=5,kernel-hashes=on',
      '-machine',
      'memory-encryption=sev1',
      ...boot,
      ...tail,
    ]);
  });

  it('disk boot and a GPU: the disk and GPU elements before the SEV ones, no direct kernel', async () => {
    expect(await argv({ MANAGER_QEMU_ENABLE_DISK: 'true', MANAGER_QEMU_GPU_BDF: '0000:41:00.0' })).toEqual([
      ...head,
      ...pflash,
      ...network,
      '-drive',
      `file=${RUN}/${VM}/disk.qcow2,if=none,id=disk0,format=qcow2`,
      '-device',
      'virtio-scsi-pci,id=scsi0,disable-legacy=on,iommu_platform=true',
      '-device',
      'scsi-hd,drive=disk0,bus=scsi0.0',
      '-device',
      'pcie-root-port,id=pci.1,bus=pcie.0',
      '-device',
      'vfio-pci,host=0000:41:00.0,bus=pci.1',
      '-fw_cfg',
      'name=opt/ovmf/X-PciMmio64Mb,string=262144',
      ...seed002,
      ...tail,
    ]);
  });

  it.each([
    [{ MANAGER_QEMU_ENABLE_SEV_SNP: 'true' }, 'MANAGER_QEMU_ENABLE_SEV and MANAGER_QEMU_ENABLE_SEV_SNP are both true'],
    [{ MANAGER_QEMU_ENABLE_TDX: 'true' }, 'MANAGER_QEMU_ENABLE_SEV and MANAGER_QEMU_ENABLE_TDX are both true'],
  ])('with another confidential switch on (%j): one line naming both', async (env, message) => {
    const result = await run(['qemu-args'], env);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(message);
  });

  it('a guest policy whose ES bit contradicts MANAGER_QEMU_ENABLE_SEV_ES is a one-line error', async () => {
    const result = await run(['qemu-args'], { MANAGER_QEMU_SEV_POLICY: '0x1', MANAGER_QEMU_ENABLE_SEV_ES: 'true' });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/MANAGER_QEMU_SEV_POLICY/);
  });
});

interface Vector {
  name: string;
  output: string;
}
const vectors = (JSON.parse(readFileSync(path.join(REPO, 'packages/measure/test/vectors/sev-snp-measure.json'), 'utf8')) as { vectors: Vector[] }).vectors;
const expected = (name: string) => vectors.find((v) => v.name === name)?.output;

describe("the sev backend's attestation policy equals sev-snp-measure's digest (packages/measure/test/vectors)", () => {
  const policy = async (env: Record<string, string>) => {
    const result = await run(['attestation-policy', '--format', 'json'], { MANAGER_QEMU_ENABLE_KVM: 'false', ...env });
    expect(result.exitCode, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as {
      policy: { measurement: string; policy: number; sevEs: boolean; kernelHashes: boolean };
      firmware: { sha256: string };
    };
  };
  const debianOvmf = { MANAGER_QEMU_OVMF_CODE_FILE: '/usr/share/ovmf/OVMF.fd' };

  it("SEV on Debian's OVMF.fd: --mode sev", async () => {
    const doc = await policy(debianOvmf);
    expect(doc.policy).toMatchObject({ measurement: expected('sev'), policy: 1, sevEs: false, kernelHashes: false });
  });

  it("SEV-ES, 4 vCPUs EPYC-Milan, on Debian's OVMF.fd: --mode seves", async () => {
    const doc = await policy({ ...debianOvmf, MANAGER_QEMU_ENABLE_SEV_ES: 'true', MANAGER_QEMU_SMP_COUNT: '4', MANAGER_QEMU_CPU: 'EPYC-Milan' });
    expect(doc.policy).toMatchObject({ measurement: expected('seves, 4 vCPUs EPYC-Milan'), policy: 5, sevEs: true });
  });

  it('SEV with kernel hashes, on the test firmware with a hashes section: --mode sev --kernel --initrd --append', async () => {
    const files = { firmware: buildSevTestFirmware(), kernel: testBootFile('kernel', 200000), initrd: testBootFile('initrd', 70001) };
    for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, name), data);
    const doc = await policy({
      MANAGER_QEMU_OVMF_CODE_FILE: path.join(dir, 'firmware'),
      MANAGER_QEMU_KERNEL_HASH: 'true',
      MANAGER_QEMU_DISK_IMG_KERNEL_FILE: path.join(dir, 'kernel'),
      MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: path.join(dir, 'initrd'),
      MANAGER_QEMU_KERNEL_CMDLINE: 'console=ttyS0 quiet',
    });
    expect(doc.policy).toMatchObject({ measurement: expected('sev kernel hashes'), kernelHashes: true });
  });

  it('as a CoRIM (the default format), decoded by an independent decoder: the SEV-ES environment and SHA-256 digests (alg 1)', async () => {
    const result = await execa('node', [MAIN, 'attestation-policy'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        MANAGER_RUN_DIR: RUN,
        MANAGER_STATE_DIR: path.join(dir, 'state'),
        MANAGER_QEMU_ENABLE_SEV: 'true',
        MANAGER_QEMU_ENABLE_KVM: 'false',
        ...debianOvmf,
        MANAGER_QEMU_ENABLE_SEV_ES: 'true',
        MANAGER_QEMU_SMP_COUNT: '4',
        MANAGER_QEMU_CPU: 'EPYC-Milan',
      },
      extendEnv: false,
      reject: false,
      encoding: 'buffer',
      // stdout's bytes as written: execa would strip a final 0x0a, the last byte of one signed CoRIM in 256.
      stripFinalNewline: { stdout: false },
    });
    expect(result.exitCode, Buffer.from(result.stderr).toString()).toBe(0);
    writeFileSync(path.join(dir, 'policy.corim'), result.stdout);
    const decoded = await execa('/usr/bin/python3', [
      path.join(import.meta.dirname, 'verify_corim.py'),
      path.join(dir, 'policy.corim'),
      '',
      'launch-measurement,firmware',
    ]);
    expect(JSON.parse(decoded.stdout)).toMatchObject({
      environment: { vendor: 'AMD', model: 'SEV-ES' },
      measurements: [
        { name: 'launch-measurement', alg: 1, digest: expected('seves, 4 vCPUs EPYC-Milan') },
        { name: 'firmware', alg: 1, digest: createHash('sha256').update(readFileSync('/usr/share/ovmf/OVMF.fd')).digest('hex') },
      ],
    });
  });
});
