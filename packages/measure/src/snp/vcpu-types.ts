import { MeasureError, MeasureErrorCode } from '../errors.js';

/**
 * CPUID Fn0000_0001_EAX from family, model and stepping (AMD CPUID
 * specification #25481): a family above 0xf is 0xf plus an extended family.
 */
export function cpuSignature(family: number, model: number, stepping: number): number {
  const familyLow = family > 0xf ? 0xf : family;
  const familyHigh = family > 0xf ? (family - 0xf) & 0xff : 0;
  return ((familyHigh << 20) | (((model >> 4) & 0xf) << 16) | (familyLow << 8) | ((model & 0xf) << 4) | (stepping & 0xf)) >>> 0;
}

const epyc = cpuSignature(23, 1, 2);
const rome = cpuSignature(23, 49, 0);
const milan = cpuSignature(25, 1, 1);
const genoa = cpuSignature(25, 17, 0);

/** QEMU's AMD EPYC CPU models (builtin_x86_defs) by name, with the signature each reports. */
export const VCPU_TYPES: Readonly<Record<string, number>> = {
  EPYC: epyc,
  'EPYC-v1': epyc,
  'EPYC-v2': epyc,
  'EPYC-IBPB': epyc,
  'EPYC-v3': epyc,
  'EPYC-v4': epyc,
  'EPYC-Rome': rome,
  'EPYC-Rome-v1': rome,
  'EPYC-Rome-v2': rome,
  'EPYC-Rome-v3': rome,
  'EPYC-Milan': milan,
  'EPYC-Milan-v1': milan,
  'EPYC-Milan-v2': milan,
  'EPYC-Genoa': genoa,
  'EPYC-Genoa-v1': genoa,
  'EPYC-Turin': cpuSignature(26, 0, 0),
};

/** How the guest vCPU is named: a QEMU model, a raw signature, or family/model/stepping. */
export interface VcpuChoice {
  readonly vcpuType?: string | undefined;
  readonly vcpuSig?: number | undefined;
  readonly vcpuFamily?: number | undefined;
  readonly vcpuModel?: number | undefined;
  readonly vcpuStepping?: number | undefined;
}

const bad = (problem: string) => new MeasureError(MeasureErrorCode.BadOption, null, problem);

/**
 * The vCPU signature, by sev-snp-measure's precedence: family/model/stepping,
 * then a signature, then a type name. Undefined when none is given.
 */
export function vcpuSignatureOf(choice: VcpuChoice): number | undefined {
  if (choice.vcpuFamily !== undefined) {
    for (const [name, value] of [
      ['--vcpu-family', choice.vcpuFamily],
      ['--vcpu-model', choice.vcpuModel],
      ['--vcpu-stepping', choice.vcpuStepping],
    ] as const) {
      if (value === undefined || !Number.isInteger(value) || value < 0 || value > 0xff) {
        throw bad(`${name} ${value ?? '(missing)'}: expected an integer from 0 to 255 (--vcpu-family needs --vcpu-model and --vcpu-stepping)`);
      }
    }
    return cpuSignature(choice.vcpuFamily, choice.vcpuModel as number, choice.vcpuStepping as number);
  }
  if (choice.vcpuSig !== undefined) {
    if (!Number.isInteger(choice.vcpuSig) || choice.vcpuSig < 0 || choice.vcpuSig > 0xffffffff) {
      throw bad(`--vcpu-sig ${choice.vcpuSig}: expected a 32-bit unsigned integer (decimal or 0x hex)`);
    }
    return choice.vcpuSig;
  }
  if (choice.vcpuType !== undefined) {
    const sig = Object.hasOwn(VCPU_TYPES, choice.vcpuType) ? VCPU_TYPES[choice.vcpuType] : undefined;
    if (sig === undefined) throw bad(`unknown vCPU type "${choice.vcpuType}": expected one of ${Object.keys(VCPU_TYPES).join(', ')}`);
    return sig;
  }
  return undefined;
}
