import { describe, expect, it } from 'vitest';
import { IgvmPageFlag, IgvmPageType, IgvmPlatformType, KVM_VMSA_GPA, writeIgvm, type IgvmDirectiveSpec, type IgvmPlatformSpec } from '@cocos-manager/testing';
import { measureSnpIgvm, MeasureError, MeasureErrorCode, parseIgvm, type IgvmMeasureOptions } from '../src/index.js';
import { run, snpDigestReference } from './page-info-reference.js';

const SNP: IgvmPlatformSpec = { mask: 1, platformType: IgvmPlatformType.SevSnp };
const page = (fill: number) => Buffer.alloc(4096, fill);
const measure = (directives: IgvmDirectiveSpec[], options: IgvmMeasureOptions = {}, platforms: IgvmPlatformSpec[] = [SNP]) =>
  measureSnpIgvm(parseIgvm('test.igvm', writeIgvm({ platforms, directives })), options);
const digestOf = (directives: IgvmDirectiveSpec[], options: IgvmMeasureOptions = {}, platforms?: IgvmPlatformSpec[]) =>
  measure(directives, options, platforms).digest.toString('hex');

describe('PAGE_DATA', () => {
  it('normal page with data: a normal page of its bytes', () => {
    expect(digestOf([{ kind: 'page', gpa: 0x1000, mask: 1, data: page(7) }])).toBe(snpDigestReference([{ kind: 'normal', gpa: 0x1000, bytes: page(7) }]));
  });
  it('short data is padded to the page', () => {
    const short = Buffer.from('hello');
    const padded = Buffer.concat([short, Buffer.alloc(4096 - short.length)]);
    expect(digestOf([{ kind: 'page', gpa: 0, mask: 1, data: padded }])).toBe(snpDigestReference([{ kind: 'normal', gpa: 0, bytes: padded }]));
  });
  it('no file data: a normal page of zeros by default, the native zero page type with --native-zero', () => {
    const d: IgvmDirectiveSpec[] = [{ kind: 'page', gpa: 0x5000, mask: 1 }];
    expect(digestOf(d)).toBe(snpDigestReference([{ kind: 'normal', gpa: 0x5000, bytes: page(0) }]));
    expect(digestOf(d, { nativeZero: true })).toBe(snpDigestReference([{ kind: 'zero', gpa: 0x5000 }]));
  });
  it('a page of zeros stored as data stays a normal page, also with --native-zero', () => {
    expect(digestOf([{ kind: 'page', gpa: 0x5000, mask: 1, data: page(0) }], { nativeZero: true })).toBe(
      snpDigestReference([{ kind: 'normal', gpa: 0x5000, bytes: page(0) }]),
    );
  });
  it('unmeasured: an unmeasured page, whatever its data', () => {
    const expected = snpDigestReference([{ kind: 'unmeasured', gpa: 0x2000 }]);
    expect(digestOf([{ kind: 'page', gpa: 0x2000, mask: 1, flags: IgvmPageFlag.Unmeasured, data: page(1) }])).toBe(expected);
    expect(digestOf([{ kind: 'page', gpa: 0x2000, mask: 1, flags: IgvmPageFlag.Unmeasured, data: page(2) }])).toBe(expected);
  });
  it.each([
    ['secrets', IgvmPageType.Secrets, 'secrets'],
    ['CPUID data', IgvmPageType.CpuidData, 'cpuid'],
    ['CPUID XF', IgvmPageType.CpuidXf, 'cpuid'],
  ] as const)('%s page: its SNP page type, without contents', (_name, dataType, kind) => {
    expect(digestOf([{ kind: 'page', gpa: 0x3000, mask: 1, dataType, data: page(9) }])).toBe(snpDigestReference([{ kind, gpa: 0x3000 }]));
  });
  it('2 MB page without data: 512 zero pages (by either rule)', () => {
    const d: IgvmDirectiveSpec[] = [{ kind: 'page', gpa: 0x20_0000, mask: 1, flags: IgvmPageFlag.Is2Mb }];
    expect(digestOf(d)).toBe(snpDigestReference(run('normal', 0x20_0000, 512, page(0))));
    expect(digestOf(d, { nativeZero: true })).toBe(snpDigestReference(run('zero', 0x20_0000, 512)));
  });
  it('2 MB unmeasured page: 512 unmeasured pages; misaligned: a warning', () => {
    const result = measure([{ kind: 'page', gpa: 0x1000, mask: 1, flags: IgvmPageFlag.Is2Mb | IgvmPageFlag.Unmeasured }]);
    expect(result.digest.toString('hex')).toBe(snpDigestReference(run('unmeasured', 0x1000, 512)));
    expect(result.warnings).toEqual([expect.stringMatching(/^2 MB PAGE_DATA at 0x1000 is not 2 MB aligned/)]);
  });
  it('pages of another platform (compatibility mask) are not measured', () => {
    const platforms = [SNP, { mask: 2, platformType: IgvmPlatformType.Tdx }];
    expect(
      digestOf(
        [
          { kind: 'page', gpa: 0, mask: 2, data: page(3) },
          { kind: 'page', gpa: 0x1000, mask: 3, data: page(4) },
        ],
        {},
        platforms,
      ),
    ).toBe(snpDigestReference([{ kind: 'normal', gpa: 0x1000, bytes: page(4) }]));
  });
  it('shared pages are measured as igvmmeasure does, with a warning that QEMU does not', () => {
    const result = measure([{ kind: 'page', gpa: 0x7000, mask: 1, flags: IgvmPageFlag.Shared, data: page(5) }]);
    expect(result.digest.toString('hex')).toBe(snpDigestReference([{ kind: 'normal', gpa: 0x7000, bytes: page(5) }]));
    expect(result.warnings).toEqual([expect.stringMatching(/^PAGE_DATA at 0x7000 is marked shared: QEMU loads it host-visible and unmeasured/)]);
  });
});

describe('PARAMETER_AREA / PARAMETER_INSERT', () => {
  it('an inserted parameter area is one unmeasured page at its address', () => {
    const result = measure([
      { kind: 'parameter-area', index: 3, bytes: 4096 },
      { kind: 'vp-count', index: 3, byteOffset: 0 },
      { kind: 'parameter-insert', gpa: 0x9000, mask: 1, index: 3 },
    ]);
    expect(result.digest.toString('hex')).toBe(snpDigestReference([{ kind: 'unmeasured', gpa: 0x9000 }]));
    expect(result.warnings).toEqual([]);
  });
  it('an area longer than a page: still one page (igvmmeasure), with a warning that QEMU marks them all', () => {
    const result = measure([
      { kind: 'parameter-area', index: 0, bytes: 3 * 4096 },
      { kind: 'parameter-insert', gpa: 0x9000, mask: 1, index: 0 },
    ]);
    expect(result.digest.toString('hex')).toBe(snpDigestReference([{ kind: 'unmeasured', gpa: 0x9000 }]));
    expect(result.warnings).toEqual([expect.stringMatching(/^parameter area 0 inserted at 0x9000 is 12288 bytes: QEMU marks all its 3 pages unmeasured/)]);
  });
  it('an insert for another platform is not measured', () => {
    const platforms = [SNP, { mask: 2, platformType: IgvmPlatformType.Tdx }];
    expect(
      digestOf(
        [
          { kind: 'parameter-area', index: 0, bytes: 4096 },
          { kind: 'parameter-insert', gpa: 0x9000, mask: 2, index: 0 },
        ],
        {},
        platforms,
      ),
    ).toBe(snpDigestReference([]));
  });
});

describe('VP_CONTEXT', () => {
  const vmsa = page(0x11);
  it('the VMSA page at its address', () => {
    const result = measure([{ kind: 'vp-context', gpa: KVM_VMSA_GPA, mask: 1, vpIndex: 0, vmsa }]);
    expect(result.digest.toString('hex')).toBe(snpDigestReference([{ kind: 'vmsa', gpa: KVM_VMSA_GPA, bytes: vmsa }]));
    expect(result).toMatchObject({ warnings: [], vmsaCount: 1 });
  });
  it("a VMSA elsewhere than KVM's address is measured there, with a warning", () => {
    const result = measure([{ kind: 'vp-context', gpa: 0x10000, mask: 1, vpIndex: 0, vmsa }]);
    expect(result.digest.toString('hex')).toBe(snpDigestReference([{ kind: 'vmsa', gpa: 0x10000, bytes: vmsa }]));
    expect(result.warnings).toEqual([expect.stringMatching(/^VMSA of vCPU 0 at 0x10000: KVM measures every VMSA at 0xfffffffff000/)]);
  });
  it('a VP context of the SEV-ES platform (masked for SNP) is measured as igvmmeasure does, with a warning', () => {
    const platforms = [SNP, { mask: 2, platformType: IgvmPlatformType.SevEs }];
    const result = measure([{ kind: 'vp-context', gpa: KVM_VMSA_GPA, mask: 2, vpIndex: 1, vmsa }], {}, platforms);
    expect(result.digest.toString('hex')).toBe(snpDigestReference([{ kind: 'vmsa', gpa: KVM_VMSA_GPA, bytes: vmsa }]));
    expect(result.warnings).toEqual([expect.stringMatching(/^VP context of vCPU 1 belongs to the SEV-ES platform \(mask 0x2\): QEMU skips it for SEV-SNP/)]);
  });
  it('a native VP context is not part of the SNP digest', () => {
    const platforms = [SNP, { mask: 2, platformType: IgvmPlatformType.Native }];
    expect(digestOf([{ kind: 'vp-context', gpa: 0, mask: 2, vpIndex: 0, vmsa: Buffer.alloc(4096) }], {}, platforms)).toBe(snpDigestReference([]));
  });
  it('pages after a VMSA: file order, with a warning that KVM measures VMSAs last', () => {
    const result = measure([
      { kind: 'vp-context', gpa: KVM_VMSA_GPA, mask: 1, vpIndex: 0, vmsa },
      { kind: 'page', gpa: 0, mask: 1, data: page(1) },
    ]);
    expect(result.digest.toString('hex')).toBe(
      snpDigestReference([
        { kind: 'vmsa', gpa: KVM_VMSA_GPA, bytes: vmsa },
        { kind: 'normal', gpa: 0, bytes: page(1) },
      ]),
    );
    expect(result.warnings).toEqual([expect.stringMatching(/^page directives follow a VP context: KVM measures the VMSAs last/)]);
  });
});

describe('SNP ID block', () => {
  const pages: IgvmDirectiveSpec[] = [{ kind: 'page', gpa: 0, mask: 1, data: page(1) }];
  const expected = Buffer.from(snpDigestReference([{ kind: 'normal', gpa: 0, bytes: page(1) }]), 'hex');
  it('a block that expects the computed digest passes', () => {
    expect(digestOf([...pages, { kind: 'snp-id-block', mask: 1, ld: expected }])).toBe(expected.toString('hex'));
  });
  it('a block that expects another digest fails, naming both; --ignore-idblock measures anyway', () => {
    const wrong: IgvmDirectiveSpec[] = [...pages, { kind: 'snp-id-block', mask: 1, ld: Buffer.alloc(48, 0xee) }];
    const err = (() => {
      try {
        return measure(wrong);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MeasureError);
    expect((err as MeasureError).measureCode).toBe(MeasureErrorCode.IgvmIdBlockMismatch);
    expect((err as Error).message).toBe(
      `test.igvm: its SNP ID block expects launch digest ${'ee'.repeat(48)}, but the file measures ${expected.toString('hex')} (--ignore-idblock measures anyway)`,
    );
    expect(digestOf(wrong, { ignoreIdBlock: true })).toBe(expected.toString('hex'));
  });
  it("another platform's ID block is not checked", () => {
    const platforms = [SNP, { mask: 2, platformType: IgvmPlatformType.Tdx }];
    expect(digestOf([...pages, { kind: 'snp-id-block', mask: 2, ld: Buffer.alloc(48, 1) }], {}, platforms)).toBe(expected.toString('hex'));
  });
});
