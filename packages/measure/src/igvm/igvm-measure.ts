import { hex, MeasureError, MeasureErrorCode } from '../errors.js';
import { PageInfoChain, SnpPageType, VMSA_GPA } from '../snp/page-info-chain.js';
import { HeaderType, PAGE_2M, PAGE_4K, PageDataFlag, PageDataType, Platform, PLATFORM_NAMES } from './igvm-format.js';
import type { IgvmFile, IgvmHeader } from './igvm-parse.js';
import { nodeCrypto } from '@cocos-manager/core';

const { createHash } = nodeCrypto;

export interface IgvmMeasureOptions {
  /** Measure PAGE_DATA without file data as SNP zero pages (igvmmeasure --native-zero) rather than normal pages of zeros. */
  readonly nativeZero?: boolean;
  /** Do not fail when the file's SNP ID block expects another digest (igvmmeasure measure --ignore-idblock). */
  readonly ignoreIdBlock?: boolean;
}

export interface IgvmMeasurement {
  readonly digest: Buffer;
  /** Where QEMU's IGVM loader would measure this file differently from igvmmeasure (whose digest this is). */
  readonly warnings: readonly string[];
  readonly vmsaCount: number;
}

const ZERO_PAGE_DIGEST = createHash('sha384').update(Buffer.alloc(PAGE_4K)).digest();
const KNOWN_DATA_TYPES = new Set<number>(Object.values(PageDataType));

/**
 * The SEV-SNP launch digest of an IGVM file as COCONUT-SVSM's `igvmmeasure
 * measure` computes it: the directives of the SEV-SNP compatibility mask in
 * file order, PAGE_DATA by data type and flags, PARAMETER_INSERT as one
 * unmeasured page, each SEV VP context as a VMSA page; then the SNP ID
 * block's expected digest, if any, must match.
 */
export function measureSnpIgvm(igvm: IgvmFile, options: IgvmMeasureOptions = {}): IgvmMeasurement {
  const snp = igvm.platforms.find((p) => p.platformType === Platform.SevSnp);
  if (!snp) {
    const names = igvm.platforms.map((p) => PLATFORM_NAMES[p.platformType] ?? `type ${p.platformType}`);
    throw new MeasureError(MeasureErrorCode.IgvmNoPlatform, igvm.file, `declares no SEV-SNP platform (platforms: ${names.join(', ') || 'none'})`);
  }
  const run = new Measurement(igvm, snp.mask, options);
  for (const directive of igvm.directives) run.directive(directive);
  return run.finish();
}

class Measurement {
  private readonly chain = new PageInfoChain();
  private readonly warnings: string[] = [];
  private readonly areaBytes = new Map<number, bigint>();
  private idBlockDigest: Buffer | null = null;
  private vmsaCount = 0;
  private pagesAfterVmsa = false;

  constructor(
    private readonly igvm: IgvmFile,
    private readonly mask: number,
    private readonly options: IgvmMeasureOptions,
  ) {}

  directive(d: IgvmHeader): void {
    const b = d.body;
    switch (d.type) {
      case HeaderType.PageData:
        return this.pageData(d);
      case HeaderType.ParameterArea:
        this.areaBytes.set(b.readUInt32LE(8), b.readBigUInt64LE(0));
        return;
      case HeaderType.ParameterInsert:
        return this.parameterInsert(d);
      case HeaderType.VpContext:
        return this.vpContext(d);
      case HeaderType.SnpIdBlock:
        if ((b.readUInt32LE(0) & this.mask) !== 0) this.idBlockDigest = Buffer.from(b.subarray(8, 56));
        return;
    }
  }

  finish(): IgvmMeasurement {
    const digest = this.chain.digest();
    if (this.idBlockDigest && !this.options.ignoreIdBlock && !this.idBlockDigest.equals(digest)) {
      throw new MeasureError(
        MeasureErrorCode.IgvmIdBlockMismatch,
        this.igvm.file,
        `its SNP ID block expects launch digest ${this.idBlockDigest.toString('hex')}, but the file measures ${digest.toString('hex')} (--ignore-idblock measures anyway)`,
      );
    }
    if (this.pagesAfterVmsa) {
      this.warnings.push('page directives follow a VP context: KVM measures the VMSAs last, igvmmeasure (and this digest) in file order');
    }
    return { digest, warnings: this.warnings, vmsaCount: this.vmsaCount };
  }

  private fail(d: IgvmHeader, problem: string): MeasureError {
    return new MeasureError(MeasureErrorCode.IgvmBadHeader, this.igvm.file, `${problem} (header at ${hex(d.offset)})`);
  }

  private gpaOf(d: IgvmHeader): number {
    const gpa = d.body.readBigUInt64LE(0);
    if (gpa > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(d, `guest address ${hex(gpa)} is beyond 2^53`);
    const value = Number(gpa);
    if (value % PAGE_4K !== 0) throw this.fail(d, `guest address ${hex(value)} is not 4 KiB aligned`);
    return value;
  }

  /** `length` bytes of file data at an absolute file offset, which must lie in the file data section. */
  private fileData(d: IgvmHeader, offset: number, length: number): Buffer {
    if (offset < this.igvm.fileDataStart || offset + length > this.igvm.data.length) {
      throw this.fail(d, `file data at ${hex(offset)} (${length} bytes) lies outside the file data section`);
    }
    return this.igvm.data.subarray(offset, offset + length);
  }

  private pageData(d: IgvmHeader): void {
    const b = d.body;
    const gpa = this.gpaOf(d);
    const fileOffset = b.readUInt32LE(12);
    const flags = b.readUInt32LE(16);
    const dataType = b.readUInt16LE(20);
    if (b.readUInt16LE(22) !== 0) throw this.fail(d, 'PAGE_DATA reserved field is not zero');
    if (!KNOWN_DATA_TYPES.has(dataType)) throw this.fail(d, `PAGE_DATA at ${hex(gpa)} has unknown data type ${dataType}`);
    if ((b.readUInt32LE(8) & this.mask) === 0) return;
    const large = (flags & PageDataFlag.Is2MbPage) !== 0;
    const size = large ? PAGE_2M : PAGE_4K;
    const data = fileOffset === 0 ? null : this.fileData(d, fileOffset, size);
    if (large && gpa % PAGE_2M !== 0) this.warnings.push(`2 MB PAGE_DATA at ${hex(gpa)} is not 2 MB aligned, as the IGVM specification requires`);
    if (large && data) {
      this.warnings.push(
        `2 MB PAGE_DATA at ${hex(gpa)} carries file data: measured as 512 pages of it; igvmmeasure (the igvm crate reads 4 KiB) cannot measure this file`,
      );
    }
    if ((flags & PageDataFlag.Shared) !== 0) {
      this.warnings.push(`PAGE_DATA at ${hex(gpa)} is marked shared: QEMU loads it host-visible and unmeasured; igvmmeasure (and this digest) measure it`);
    }
    if (this.vmsaCount > 0) this.pagesAfterVmsa = true;
    for (let offset = 0; offset < size; offset += PAGE_4K) {
      this.page(gpa + offset, flags, dataType, data?.subarray(offset, offset + PAGE_4K) ?? null);
    }
  }

  private page(gpa: number, flags: number, dataType: number, data: Buffer | null): void {
    if (dataType === PageDataType.Secrets) return this.chain.add(SnpPageType.Secrets, gpa);
    if (dataType === PageDataType.CpuidData || dataType === PageDataType.CpuidXf) return this.chain.add(SnpPageType.Cpuid, gpa);
    if ((flags & PageDataFlag.Unmeasured) !== 0) return this.chain.add(SnpPageType.Unmeasured, gpa);
    if (data) return this.chain.addNormal(gpa, data);
    // No file data: a page of zeros, measured as such unless the native zero page type is asked for.
    if (this.options.nativeZero) this.chain.add(SnpPageType.Zero, gpa);
    else this.chain.add(SnpPageType.Normal, gpa, ZERO_PAGE_DIGEST);
  }

  private parameterInsert(d: IgvmHeader): void {
    const gpa = this.gpaOf(d);
    const index = d.body.readUInt32LE(12);
    if ((d.body.readUInt32LE(8) & this.mask) === 0) return;
    const bytes = this.areaBytes.get(index) ?? 0n;
    if (bytes > BigInt(PAGE_4K)) {
      this.warnings.push(
        `parameter area ${index} inserted at ${hex(gpa)} is ${bytes} bytes: QEMU marks all its ${bytes / BigInt(PAGE_4K)} pages unmeasured, igvmmeasure (and this digest) only the first`,
      );
    }
    if (this.vmsaCount > 0) this.pagesAfterVmsa = true;
    this.chain.add(SnpPageType.Unmeasured, gpa);
  }

  private vpContext(d: IgvmHeader): void {
    const b = d.body;
    const contextMask = b.readUInt32LE(8);
    const platform = this.igvm.platforms.find((p) => p.mask === contextMask);
    if (!platform) throw this.fail(d, `VP context with compatibility mask ${hex(contextMask)}, which no platform header declares`);
    if (platform.platformType !== Platform.SevSnp && platform.platformType !== Platform.SevEs) return;
    const gpa = this.gpaOf(d);
    const vmsa = this.fileData(d, b.readUInt32LE(12), PAGE_4K);
    const vp = b.readUInt16LE(16);
    if ((contextMask & this.mask) === 0) {
      this.warnings.push(
        `VP context of vCPU ${vp} belongs to the ${PLATFORM_NAMES[platform.platformType]} platform (mask ${hex(contextMask)}): QEMU skips it for SEV-SNP; igvmmeasure (and this digest) measure it`,
      );
    }
    if (gpa !== VMSA_GPA)
      this.warnings.push(`VMSA of vCPU ${vp} at ${hex(gpa)}: KVM measures every VMSA at ${hex(VMSA_GPA)}, igvmmeasure (and this digest) at the file's address`);
    this.chain.addVmsa(vmsa, gpa);
    this.vmsaCount += 1;
  }
}
