import { MeasureError, MeasureErrorCode } from './errors.js';
import { checkMeasureOptions, type MeasureMode, type MeasureOptions } from './measure.js';
import type { VmmType } from './snp/vmsa.js';
import type { TdxPageAddOrder } from './tdx/mrtd.js';

/** `cocos-manager measure`'s flags as a command-line parser hands them over: strings and switches. */
export interface MeasureFlags {
  readonly mode?: string;
  readonly ovmf?: string;
  readonly igvm?: string;
  readonly vcpus?: string;
  readonly vcpuType?: string;
  readonly vcpuSig?: string;
  readonly vcpuFamily?: string;
  readonly vcpuModel?: string;
  readonly vcpuStepping?: string;
  readonly guestFeatures?: string;
  readonly vmmType?: string;
  readonly kernel?: string;
  readonly initrd?: string;
  readonly append?: string;
  readonly nativeZero?: boolean;
  readonly ignoreIdblock?: boolean;
  readonly tdxPageAddOrder?: string;
  readonly outputFormat?: string;
}

export type OutputFormat = 'hex' | 'base64';

const bad = (problem: string) => new MeasureError(MeasureErrorCode.BadOption, null, problem);

/** A decimal integer (as sev-snp-measure's `type=int`). */
function decimal(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw bad(`${flag} ${JSON.stringify(value)}: expected a decimal integer`);
  return Number(value);
}

/** A decimal or 0x-hex integer (as Python's `int(x, 0)`). */
function anyBase(flag: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[1-9]\d*|0)$/.test(value))
    throw bad(`${flag} ${JSON.stringify(value)}: expected an integer (decimal or 0x hex)`);
  return BigInt(value);
}

/** Turns the flags into checked measurement options and the output format. */
export function measureOptionsFromFlags(flags: MeasureFlags): { options: MeasureOptions; outputFormat: OutputFormat } {
  if (flags.mode === undefined) throw bad('missing --mode (snp, seves, sev or tdx)');
  const outputFormat = flags.outputFormat ?? 'hex';
  if (outputFormat !== 'hex' && outputFormat !== 'base64') throw bad(`--output-format ${JSON.stringify(outputFormat)}: expected hex or base64`);
  const sig = anyBase('--vcpu-sig', flags.vcpuSig);
  if (sig !== undefined && sig > 0xffffffffn) throw bad(`--vcpu-sig ${flags.vcpuSig}: expected a 32-bit value`);
  const options: MeasureOptions = {
    mode: flags.mode as MeasureMode,
    ovmf: flags.ovmf,
    igvm: flags.igvm,
    vcpus: decimal('--vcpus', flags.vcpus),
    vcpuType: flags.vcpuType,
    vcpuSig: sig === undefined ? undefined : Number(sig),
    vcpuFamily: decimal('--vcpu-family', flags.vcpuFamily),
    vcpuModel: decimal('--vcpu-model', flags.vcpuModel),
    vcpuStepping: decimal('--vcpu-stepping', flags.vcpuStepping),
    guestFeatures: anyBase('--guest-features', flags.guestFeatures),
    vmmType: flags.vmmType as VmmType | undefined,
    kernel: flags.kernel,
    initrd: flags.initrd,
    append: flags.append,
    nativeZero: flags.nativeZero,
    ignoreIdBlock: flags.ignoreIdblock,
    tdxPageAddOrder: flags.tdxPageAddOrder as TdxPageAddOrder | undefined,
  };
  checkMeasureOptions(options);
  return { options, outputFormat };
}

/** The digest as `cocos-manager measure` prints it. */
export function formatDigest(digest: Buffer, format: OutputFormat): string {
  return format === 'hex' ? digest.toString('hex') : digest.toString('base64');
}
