// The independent oracle of the IGVM engine: an IGVM file written by the test
// kit from Debian's OVMF.fd, with the same pages and the VMSAs sev-snp-measure
// dumped, measures under --native-zero exactly as sev-snp-measure measures
// the OVMF launch; under igvmmeasure's default rule, as the same computation
// with each zero page measured as a normal page of zeros.
import { describe, expect, it } from 'vitest';
import { igvmFromOvmf } from '@cocos-manager/testing';
import { measureSnpIgvm, parseIgvm } from '../src/index.js';
import { debianOvmf, reference, referenceVmsas } from './reference-vectors.js';

const ovmf = debianOvmf();
const nativeZeroCases = [
  { vcpus: 1, vcpuType: 'EPYC-v4', features: '0x1', vector: 'snp, 1 vCPU EPYC-v4' },
  { vcpus: 4, vcpuType: 'EPYC-v4', features: '0x1', vector: 'snp, 4 vCPUs EPYC-v4' },
  { vcpus: 2, vcpuType: 'EPYC-Milan', features: '0x21', vector: 'snp, 2 vCPUs EPYC-Milan, features 0x21' },
];
const expected = (name: string) => {
  const vector = reference.vectors.find((v) => v.name === name);
  if (!vector) throw new Error(`no vector "${name}"`);
  return vector.output;
};
const measure = (file: Buffer, nativeZero: boolean) => measureSnpIgvm(parseIgvm('ovmf.igvm', file), { nativeZero });

describe('IGVM files written from OVMF.fd', () => {
  it.each(nativeZeroCases)('--native-zero: $vcpus vCPU(s) $vcpuType, features $features equal the sev-snp-measure OVMF digest', (c) => {
    const igvm = igvmFromOvmf(ovmf, { vmsas: referenceVmsas(c.vcpuType, c.features, c.vcpus) });
    const result = measure(igvm, true);
    expect(result.digest.toString('hex')).toBe(expected(c.vector));
    expect(result.vmsaCount).toBe(c.vcpus);
    expect(result.warnings).toEqual([]);
  });

  it.each(reference.igvmDefaultZeroRule.vectors)("igvmmeasure's default rule: $vcpus vCPU(s) $vcpuType, features $guestFeatures", (c) => {
    const igvm = igvmFromOvmf(ovmf, { vmsas: referenceVmsas(c.vcpuType, c.guestFeatures, c.vcpus) });
    const digest = measure(igvm, false).digest.toString('hex');
    expect(digest).toBe(c.output);
    // The rule matters: this file's SEC_MEM pages carry no data, so the two rules must differ.
    expect(digest).not.toBe(measure(igvm, true).digest.toString('hex'));
  });

  it('deduplicated page data (equal pages share one copy in the file) measures the same', () => {
    const vmsas = referenceVmsas('EPYC-v4', '0x1', 4);
    const plain = igvmFromOvmf(ovmf, { vmsas });
    const deduped = igvmFromOvmf(ovmf, { vmsas, dedupe: true });
    expect(deduped.length).toBeLessThan(plain.length);
    expect(measure(deduped, true).digest.toString('hex')).toBe(expected('snp, 4 vCPUs EPYC-v4'));
  });

  it('the firmware as 2 MB pages measures as its 512 4 KiB pages, with a warning that igvmmeasure cannot read it', () => {
    const igvm = igvmFromOvmf(ovmf, { vmsas: referenceVmsas('EPYC-v4', '0x1', 1), pageSize: '2m' });
    const result = measure(igvm, true);
    expect(result.digest.toString('hex')).toBe(expected('snp, 1 vCPU EPYC-v4'));
    expect(result.warnings).toEqual([expect.stringMatching(/^2 MB PAGE_DATA at 0xffe00000 carries file data: measured as 512 pages of it; igvmmeasure/)]);
  });

  it('another compatibility mask for the SEV-SNP platform measures the same', () => {
    const igvm = igvmFromOvmf(ovmf, { vmsas: referenceVmsas('EPYC-v4', '0x1', 1), mask: 0x4 });
    expect(measure(igvm, true).digest.toString('hex')).toBe(expected('snp, 1 vCPU EPYC-v4'));
  });
});
