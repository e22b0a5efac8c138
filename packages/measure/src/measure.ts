import { MeasureError, MeasureErrorCode } from './errors.js';
import { FirmwareImage } from './firmware/firmware-image.js';
import { measureSnpIgvm } from './igvm/igvm-measure.js';
import { parseIgvm } from './igvm/igvm-parse.js';
import { kernelHashesOf, readInput } from './inputs.js';
import { measureSev, measureSevEs } from './sev/sev-es.js';
import { measureSnpOvmf } from './snp/ovmf-snp.js';
import { vcpuSignatureOf, type VcpuChoice } from './snp/vcpu-types.js';
import { VMM_TYPES, type VmmType } from './snp/vmsa.js';
import { measureTdxMrtd, type TdxPageAddOrder } from './tdx/mrtd.js';

/** snp: SEV-SNP (SHA-384); seves, sev: SEV-ES and SEV (SHA-256); tdx: the MRTD (SHA-384). */
export type MeasureMode = 'snp' | 'seves' | 'sev' | 'tdx';
export const MEASURE_MODES: readonly MeasureMode[] = ['snp', 'seves', 'sev', 'tdx'];

/** What to measure, in sev-snp-measure's terms (plus IGVM and TDX). */
export interface MeasureOptions extends VcpuChoice {
  readonly mode: MeasureMode;
  /** The OVMF (TDVF for tdx) image, or… */
  readonly ovmf?: string | undefined;
  /** …the IGVM file (snp only). */
  readonly igvm?: string | undefined;
  readonly vcpus?: number | undefined;
  /** SEV_FEATURES of the SNP VMSAs (default 0x1, SNPActive). */
  readonly guestFeatures?: bigint | undefined;
  readonly vmmType?: VmmType | undefined;
  readonly kernel?: string | undefined;
  readonly initrd?: string | undefined;
  readonly append?: string | undefined;
  readonly nativeZero?: boolean | undefined;
  readonly ignoreIdBlock?: boolean | undefined;
  readonly tdxPageAddOrder?: TdxPageAddOrder | undefined;
}

export interface MeasureResult {
  readonly digest: Buffer;
  /** Where a reference tool or QEMU's loader would disagree (IGVM). */
  readonly warnings: readonly string[];
}

/** The largest vCPU count accepted (KVM's KVM_MAX_VCPUS on x86). */
export const MAX_VCPUS = 4096;
const bad = (problem: string) => new MeasureError(MeasureErrorCode.BadOption, null, problem);

/** Checks a set of options the way sev-snp-measure's command line does, before any file is read. */
export function checkMeasureOptions(o: MeasureOptions): void {
  if (!MEASURE_MODES.includes(o.mode)) throw bad(`--mode ${JSON.stringify(o.mode)}: expected one of ${MEASURE_MODES.join(', ')}`);
  if ((o.ovmf === undefined) === (o.igvm === undefined)) throw bad('give exactly one of --ovmf FILE and --igvm FILE');
  if (o.igvm !== undefined && o.mode !== 'snp') throw bad(`--igvm measures SEV-SNP launches only (--mode snp), not --mode ${o.mode}`);
  if ((o.initrd !== undefined || o.append !== undefined) && o.kernel === undefined) throw bad('--initrd and --append need --kernel');
  if (o.kernel !== undefined && (o.igvm !== undefined || o.mode === 'tdx')) throw bad('--kernel applies to OVMF direct boot in modes snp, seves and sev');
  if ((o.nativeZero || o.ignoreIdBlock) && o.igvm === undefined) throw bad('--native-zero and --ignore-idblock apply to --igvm');
  if (o.vmmType !== undefined && !VMM_TYPES.includes(o.vmmType)) throw bad(`--vmm-type ${JSON.stringify(o.vmmType)}: expected one of ${VMM_TYPES.join(', ')}`);
  if (o.guestFeatures !== undefined && (o.guestFeatures < 0n || o.guestFeatures >= 1n << 64n)) throw bad('--guest-features: expected a 64-bit unsigned value');
  if (o.tdxPageAddOrder !== undefined && o.tdxPageAddOrder !== 'single-pass' && o.tdxPageAddOrder !== 'two-pass') {
    throw bad(`--tdx-page-add-order ${JSON.stringify(o.tdxPageAddOrder)}: expected single-pass or two-pass`);
  }
  if (needsVcpus(o)) {
    if (o.vcpus === undefined) throw bad(`missing --vcpus N in mode ${o.mode}`);
    if (!Number.isInteger(o.vcpus) || o.vcpus < 1 || o.vcpus > MAX_VCPUS) throw bad(`--vcpus ${o.vcpus}: expected an integer from 1 to ${MAX_VCPUS}`);
    if (vcpuSignatureOf(o) === undefined && (o.vmmType ?? 'QEMU') === 'QEMU') {
      throw bad(`missing --vcpu-type or --vcpu-sig or --vcpu-family in mode ${o.mode}`);
    }
  }
}

const needsVcpus = (o: MeasureOptions) => o.ovmf !== undefined && (o.mode === 'snp' || o.mode === 'seves');

/** Reads the files and computes the launch digest (or MRTD). */
export async function measureLaunch(o: MeasureOptions): Promise<MeasureResult> {
  checkMeasureOptions(o);
  if (o.igvm !== undefined) {
    const igvm = parseIgvm(o.igvm, await readInput(o.igvm, 'IGVM file'));
    const result = measureSnpIgvm(igvm, { nativeZero: o.nativeZero ?? false, ignoreIdBlock: o.ignoreIdBlock ?? false });
    return { digest: result.digest, warnings: result.warnings };
  }
  const file = o.ovmf as string;
  const image = new FirmwareImage(file, await readInput(file, 'firmware'));
  if (o.mode === 'tdx') return { digest: measureTdxMrtd(image, o.tdxPageAddOrder), warnings: [] };
  const kernelHashes = o.kernel === undefined ? null : await kernelHashesOf(o.kernel, o.initrd, o.append);
  if (o.mode === 'sev') return { digest: measureSev(image, { kernelHashes }), warnings: [] };
  const vcpu = { vcpus: o.vcpus as number, vcpuSignature: vcpuSignatureOf(o) ?? 0, vmm: o.vmmType ?? 'QEMU' };
  if (o.mode === 'seves') return { digest: measureSevEs(image, { ...vcpu, kernelHashes }), warnings: [] };
  return { digest: measureSnpOvmf(image, { ...vcpu, guestFeatures: o.guestFeatures ?? 1n, kernelHashes }), warnings: [] };
}
