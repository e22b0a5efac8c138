// An IGVM file with the same pages and VMSAs as a QEMU SEV-SNP launch of an
// OVMF image, for the oracle test: measured with igvmmeasure's
// --native-zero rule it must give sev-snp-measure's OVMF digest.
import { guidBytes, SevSection, type SevTestSection } from './sev-test-firmware.js';
import { IgvmPageFlag, IgvmPageType, IgvmPlatformType, writeIgvm, type IgvmDirectiveSpec } from './igvm-writer.js';

const PAGE = 0x1000;
const PAGE_2M = 0x20_0000;
/** KVM's guest address of every VMSA. */
export const KVM_VMSA_GPA = 0xffff_ffff_f000;

/** The SEV metadata sections of an OVMF image, read straight from its footer table (independently of the engine). */
export function ovmfSevSections(ovmf: Buffer): SevTestSection[] {
  const footerEnd = ovmf.length - 32;
  if (!ovmf.subarray(footerEnd - 16, footerEnd).equals(guidBytes('96b582de-1fb2-45f7-baea-a366c55a082d'))) throw new Error('no OVMF footer table');
  const wanted = guidBytes('dc886566-984a-4798-a75e-5585a7bf67cc');
  const tableStart = footerEnd - ovmf.readUInt16LE(footerEnd - 18);
  for (let end = footerEnd - 18; end - 18 >= tableStart;) {
    const length = ovmf.readUInt16LE(end - 18);
    if (ovmf.subarray(end - 16, end).equals(wanted)) {
      const header = ovmf.length - ovmf.readUInt32LE(end - length);
      const count = ovmf.readUInt32LE(header + 12);
      return Array.from({ length: count }, (_, i) => {
        const at = header + 16 + i * 12;
        return { gpa: ovmf.readUInt32LE(at), size: ovmf.readUInt32LE(at + 4), type: ovmf.readUInt32LE(at + 8) };
      });
    }
    end -= length;
  }
  throw new Error('no SEV metadata entry in the footer table');
}

/** A 4 KiB page from (offset, hex) runs of its non-zero bytes (as the committed VMSA dumps are stored). */
export function pageFromRuns(runs: ReadonlyArray<readonly [number, string]>): Buffer {
  const page = Buffer.alloc(PAGE);
  for (const [offset, hex] of runs) Buffer.from(hex, 'hex').copy(page, offset);
  return page;
}

export interface IgvmFromOvmfOptions {
  /** One VMSA page per vCPU, BSP first. */
  readonly vmsas: readonly Buffer[];
  /** The firmware as 4 KiB pages, or as 2 MB pages where it is 2 MB aligned. */
  readonly pageSize?: '4k' | '2m';
  readonly dedupe?: boolean;
  /** The SEV-SNP platform's compatibility mask (default 1). */
  readonly mask?: number;
  /** Directives added after the VP contexts (to test ordering) or before them. */
  readonly extraBefore?: readonly IgvmDirectiveSpec[];
}

/** The directives of an OVMF launch: firmware pages, SEV metadata sections, then one VP context per vCPU. */
export function ovmfLaunchDirectives(ovmf: Buffer, options: IgvmFromOvmfOptions): IgvmDirectiveSpec[] {
  const mask = options.mask ?? 1;
  const base = 0x1_0000_0000 - ovmf.length;
  const directives: IgvmDirectiveSpec[] = [];
  const step = options.pageSize === '2m' && base % PAGE_2M === 0 && ovmf.length % PAGE_2M === 0 ? PAGE_2M : PAGE;
  for (let offset = 0; offset < ovmf.length; offset += step) {
    directives.push({ kind: 'page', gpa: base + offset, mask, flags: step === PAGE_2M ? IgvmPageFlag.Is2Mb : 0, data: ovmf.subarray(offset, offset + step) });
  }
  for (const section of ovmfSevSections(ovmf)) {
    if (section.type === SevSection.Secrets) directives.push({ kind: 'page', gpa: section.gpa, mask, dataType: IgvmPageType.Secrets });
    else if (section.type === SevSection.Cpuid) directives.push({ kind: 'page', gpa: section.gpa, mask, dataType: IgvmPageType.CpuidData });
    else for (let at = 0; at < section.size; at += PAGE) directives.push({ kind: 'page', gpa: section.gpa + at, mask });
  }
  directives.push(...(options.extraBefore ?? []));
  options.vmsas.forEach((vmsa, vpIndex) => directives.push({ kind: 'vp-context', gpa: KVM_VMSA_GPA, mask, vpIndex, vmsa }));
  return directives;
}

/** The IGVM file of `ovmfLaunchDirectives`, for one SEV-SNP platform. */
export function igvmFromOvmf(ovmf: Buffer, options: IgvmFromOvmfOptions): Buffer {
  return writeIgvm({
    platforms: [{ mask: options.mask ?? 1, platformType: IgvmPlatformType.SevSnp }],
    directives: ovmfLaunchDirectives(ovmf, options),
    dedupe: options.dedupe ?? false,
  });
}
