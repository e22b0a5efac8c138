import { describe, expect, it } from 'vitest';
import { BSP_EIP, buildVmsa, cpuSignature, FirmwareImage, sevEsResetEip, VCPU_TYPES, vcpuSignatureOf, MeasureError } from '../src/index.js';
import { debianOvmf, reference, referenceVmsas } from './reference-vectors.js';

describe('VMSA pages', () => {
  const apEip = sevEsResetEip(new FirmwareImage('/usr/share/ovmf/OVMF.fd', debianOvmf()));
  it.each(reference.vmsas.map((v) => [v.vcpuType, v.guestFeatures] as const))(
    "BSP and AP of %s, features %s are byte for byte sev-snp-measure's dump",
    (type, features) => {
      const base = { sevFeatures: BigInt(features), vcpuSignature: VCPU_TYPES[type] as number, vmm: 'QEMU' as const };
      const [bsp, ap] = referenceVmsas(type, features, 2);
      expect(buildVmsa({ ...base, eip: BSP_EIP })).toEqual(bsp);
      expect(buildVmsa({ ...base, eip: apEip })).toEqual(ap);
    },
  );
  it("the AP starts at the firmware's SEV-ES reset EIP: CS base its upper half, RIP its lower", () => {
    expect(apEip).toBe(0x80b004);
    const ap = buildVmsa({ eip: apEip, sevFeatures: 1n, vcpuSignature: 0, vmm: 'QEMU' });
    expect(ap.readBigUInt64LE(0x10 + 8)).toBe(0x800000n);
    expect(ap.readBigUInt64LE(0x178)).toBe(0xb004n);
  });
});

describe('vCPU types and signatures', () => {
  it('family/model/stepping encode as CPUID Fn0000_0001_EAX (extended family above 0xf)', () => {
    expect(cpuSignature(23, 1, 2)).toBe(0x800f12);
    expect(cpuSignature(25, 1, 1)).toBe(0xa00f11);
    expect(cpuSignature(25, 17, 0)).toBe(0xa10f10);
    expect(cpuSignature(26, 0, 0)).toBe(0xb00f00);
    expect(cpuSignature(6, 0x8f, 8)).toBe(0x0806f8);
  });
  it('knows every EPYC model sev-snp-measure knows', () => {
    expect(Object.keys(VCPU_TYPES)).toEqual(
      expect.arrayContaining(['EPYC', 'EPYC-v4', 'EPYC-Rome', 'EPYC-Rome-v3', 'EPYC-Milan', 'EPYC-Milan-v2', 'EPYC-Genoa', 'EPYC-Genoa-v1', 'EPYC-Turin']),
    );
  });
  it('family/model/stepping win over a signature, which wins over a name', () => {
    expect(vcpuSignatureOf({ vcpuType: 'EPYC-Milan', vcpuSig: 5, vcpuFamily: 23, vcpuModel: 1, vcpuStepping: 2 })).toBe(0x800f12);
    expect(vcpuSignatureOf({ vcpuType: 'EPYC-Milan', vcpuSig: 5 })).toBe(5);
    expect(vcpuSignatureOf({ vcpuType: 'EPYC-Milan' })).toBe(0xa00f11);
    expect(vcpuSignatureOf({})).toBeUndefined();
  });
  it.each([
    [{ vcpuType: 'EPYC-Zen9' }, /^unknown vCPU type "EPYC-Zen9": expected one of EPYC, EPYC-v1, /],
    [{ vcpuType: 'toString' }, /^unknown vCPU type "toString"/],
    [{ vcpuFamily: 25, vcpuModel: 1 }, /^--vcpu-stepping \(missing\): expected an integer from 0 to 255/],
    [{ vcpuFamily: 300, vcpuModel: 1, vcpuStepping: 0 }, /^--vcpu-family 300: expected an integer from 0 to 255/],
    [{ vcpuSig: -1 }, /^--vcpu-sig -1: expected a 32-bit unsigned integer/],
  ])('%j is refused with a clear message', (choice, message) => {
    expect(() => vcpuSignatureOf(choice)).toThrow(MeasureError);
    expect(() => vcpuSignatureOf(choice)).toThrow(message);
  });
});
