import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSevTestFirmware, SEV_TEST_SECTIONS, SevSection, testBootFile, type SevTestFirmwareOptions } from '@cocos-manager/testing';
import { measureLaunch, measureOptionsFromFlags, MeasureError, MeasureErrorCode, type MeasureFlags, type MeasureOptions } from '../src/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-measure-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const write = (data: Buffer) => {
  const file = path.join(dir, `fw${(n += 1)}.fd`);
  writeFileSync(file, data);
  return file;
};
const firmware = (options: SevTestFirmwareOptions) => write(buildSevTestFirmware(options));
const kernel = write(testBootFile('kernel', 5000));

async function failure(options: MeasureOptions): Promise<MeasureError> {
  const err = await measureLaunch(options).then(
    () => new Error('measured'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MeasureError);
  expect((err as Error).message.split('\n')).toHaveLength(1);
  return err as MeasureError;
}
const snp = (ovmf: string, extra: Partial<MeasureOptions> = {}): MeasureOptions => ({ mode: 'snp', ovmf, vcpus: 2, vcpuType: 'EPYC-v4', ...extra });

describe('bad firmware gets one-line errors naming the file and the problem', () => {
  it.each([
    [
      'no footer table',
      () => firmware({ noFooter: true }),
      {},
      MeasureErrorCode.NoFooterTable,
      /: no OVMF footer table \(GUID 96b582de-1fb2-45f7-baea-a366c55a082d 32 bytes before the end\), so no SEV metadata/,
    ],
    ['a plain file', () => write(Buffer.alloc(8192, 0xab)), {}, MeasureErrorCode.NoFooterTable, /no OVMF footer table/],
    ['not whole pages', () => write(Buffer.alloc(5000)), {}, MeasureErrorCode.BadFirmwareSize, /size 5000 bytes is not a whole number of 4 KiB pages/],
    [
      'a wrong metadata signature',
      () => firmware({ metadataSignature: 'XSEV' }),
      {},
      MeasureErrorCode.BadSevMetadata,
      /SEV metadata signature is "XSEV", expected "ASEV"/,
    ],
    ['a wrong metadata version', () => firmware({ metadataVersion: 2 }), {}, MeasureErrorCode.BadSevMetadata, /SEV metadata version 2, expected 1/],
    [
      'an unknown section type',
      () => firmware({ sections: [{ gpa: 0x800000, size: 0x1000, type: 9 }] }),
      {},
      MeasureErrorCode.BadSevMetadata,
      /SEV metadata section 0 has unknown type 0x9/,
    ],
    [
      'a misaligned section',
      () => firmware({ sections: [{ gpa: 0x800800, size: 0x1000, type: 1 }] }),
      {},
      MeasureErrorCode.BadSevMetadata,
      /section 0 \(gpa 0x800800, size 0x1000\) is not whole 4 KiB pages/,
    ],
    ['no AP reset block', () => firmware({ resetEip: null }), {}, MeasureErrorCode.NoResetBlock, /no SEV-ES AP reset block \(footer-table entry 00f771de-/],
    [
      'a zero AP reset EIP with 2 vCPUs',
      () => firmware({ resetEip: 0 }),
      {},
      MeasureErrorCode.NoResetBlock,
      /the SEV-ES AP reset EIP is 0, so 2 vCPUs cannot start/,
    ],
    [
      'a kernel but no KERNEL_HASHES section',
      () => firmware({ sections: SEV_TEST_SECTIONS.filter((s) => s.type !== SevSection.KernelHashes) }),
      { kernel },
      MeasureErrorCode.NoKernelHashes,
      /a kernel is given, but the SEV metadata has no KERNEL_HASHES section/,
    ],
    [
      'a kernel but no hash table block (SNP)',
      () => firmware({ hashTable: null }),
      { kernel },
      MeasureErrorCode.NoKernelHashes,
      /no SEV hash table block says where the table goes/,
    ],
    [
      'a kernel but no hash table block (SEV-ES)',
      () => firmware({ hashTable: null }),
      { mode: 'seves', kernel },
      MeasureErrorCode.NoKernelHashes,
      /this OVMF has no SEV hash table block/,
    ],
    [
      'a kernel but no hash table block (SEV)',
      () => firmware({ hashTable: null }),
      { mode: 'sev', kernel },
      MeasureErrorCode.NoKernelHashes,
      /this OVMF has no SEV hash table block/,
    ],
    [
      'a hash table that does not fit its page',
      () => firmware({ hashTable: { gpa: 0x805f80, size: 0x400 } }),
      { kernel },
      MeasureErrorCode.BadSevMetadata,
      /the SEV hash table at 0x805f80 does not fit in its page/,
    ],
    [
      'no TDVF metadata (TDX)',
      () => firmware({}),
      { mode: 'tdx', vcpus: undefined, vcpuType: undefined },
      MeasureErrorCode.NoTdvfMetadata,
      /no TDVF metadata \(footer-table entry e47a6535-/,
    ],
  ] as const)('%s', async (_name, make, extra, code, message) => {
    const file = make();
    const err = await failure(snp(file, extra as Partial<MeasureOptions>));
    expect(err.measureCode).toBe(code);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(err.message).toMatch(message);
  });

  it('a missing file names it and the reason', async () => {
    const err = await failure(snp(path.join(dir, 'missing.fd')));
    expect(err).toMatchObject({ measureCode: MeasureErrorCode.Unreadable, message: `${path.join(dir, 'missing.fd')}: cannot read the firmware (ENOENT)` });
    const noKernel = await failure(snp(firmware({}), { kernel: path.join(dir, 'no-kernel') }));
    expect(noKernel.message).toBe(`${path.join(dir, 'no-kernel')}: cannot read the kernel (ENOENT)`);
  });
});

describe('options are checked as sev-snp-measure checks them', () => {
  it.each([
    [{}, /^missing --mode \(snp, seves, sev or tdx\)$/],
    [{ mode: 'sgx', ovmf: 'x' }, /^--mode "sgx": expected one of snp, seves, sev, tdx$/],
    [{ mode: 'snp' }, /^give exactly one of --ovmf FILE and --igvm FILE$/],
    [{ mode: 'snp', ovmf: 'a', igvm: 'b' }, /^give exactly one of --ovmf FILE and --igvm FILE$/],
    [{ mode: 'seves', igvm: 'b' }, /^--igvm measures SEV-SNP launches only \(--mode snp\), not --mode seves$/],
    [{ mode: 'snp', ovmf: 'a', vcpuType: 'EPYC' }, /^missing --vcpus N in mode snp$/],
    [{ mode: 'snp', ovmf: 'a', vcpus: '0', vcpuType: 'EPYC' }, /^--vcpus 0: expected an integer from 1 to 4096$/],
    [{ mode: 'snp', ovmf: 'a', vcpus: 'four', vcpuType: 'EPYC' }, /^--vcpus "four": expected a decimal integer$/],
    [{ mode: 'snp', ovmf: 'a', vcpus: '2' }, /^missing --vcpu-type or --vcpu-sig or --vcpu-family in mode snp$/],
    [{ mode: 'snp', ovmf: 'a', vcpus: '2', vcpuType: 'Skylake' }, /^unknown vCPU type "Skylake"/],
    [{ mode: 'snp', ovmf: 'a', vcpus: '2', vcpuType: 'EPYC', guestFeatures: 'lots' }, /^--guest-features "lots": expected an integer \(decimal or 0x hex\)$/],
    [{ mode: 'snp', ovmf: 'a', vcpus: '2', vcpuType: 'EPYC', vmmType: 'xen' }, /^--vmm-type "xen": expected one of QEMU, ec2, gce$/],
    [{ mode: 'sev', ovmf: 'a', initrd: 'i' }, /^--initrd and --append need --kernel$/],
    [{ mode: 'snp', igvm: 'a', kernel: 'k' }, /^--kernel applies to OVMF direct boot/],
    [{ mode: 'snp', ovmf: 'a', vcpus: '1', vcpuType: 'EPYC', nativeZero: true }, /^--native-zero and --ignore-idblock apply to --igvm$/],
    [{ mode: 'tdx', ovmf: 'a', outputFormat: 'binary' }, /^--output-format "binary": expected hex or base64$/],
    [{ mode: 'tdx', ovmf: 'a', tdxPageAddOrder: 'random' }, /^--tdx-page-add-order "random": expected single-pass or two-pass$/],
  ] as Array<[MeasureFlags, RegExp]>)('%j', (flags, message) => {
    let err: unknown;
    try {
      measureOptionsFromFlags(flags);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MeasureError);
    expect((err as MeasureError).measureCode).toBe(MeasureErrorCode.BadOption);
    expect((err as Error).message).toMatch(message);
  });

  it('accepts what sev-snp-measure accepts: hex features and signatures, ec2 without a vCPU type, sev without vCPUs', () => {
    expect(measureOptionsFromFlags({ mode: 'snp', ovmf: 'a', vcpus: '2', vcpuSig: '0xa00f11', guestFeatures: '0x21' }).options).toMatchObject({
      vcpuSig: 0xa00f11,
      guestFeatures: 0x21n,
    });
    expect(() => measureOptionsFromFlags({ mode: 'snp', ovmf: 'a', vcpus: '2', vmmType: 'ec2' })).not.toThrow();
    expect(() => measureOptionsFromFlags({ mode: 'sev', ovmf: 'a' })).not.toThrow();
  });
});
