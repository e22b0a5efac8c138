import type { SnpReport } from './snp-report.js';
import { formatTcb, tcbParts, tcbShortfalls, type SnpProduct } from './tcb.js';

/** What a verifier expects of a report: the policy the manager gives the VM, field by field. */
export interface SnpReportExpectations {
  readonly measurement?: Buffer;
  /** Expected host data; absent: not checked. */
  readonly hostData?: Buffer;
  /** The guest policy word the VM was launched with. */
  readonly policy?: bigint;
  readonly vmpl?: number;
  readonly familyId?: Buffer;
  readonly imageId?: Buffer;
  readonly minimumGuestSvn?: number;
  /** Minimum of the current, committed and reported TCB. */
  readonly minimumTcb?: bigint;
  readonly minimumLaunchTcb?: bigint;
  /** The product line, for the TCB layout (default Milan). */
  readonly product?: SnpProduct;
}

/** One field that does not hold, named as the ABI names it. */
export interface ReportMismatch {
  readonly field: string;
  readonly problem: string;
}

/** Guest policy bits (SEV-SNP ABI, "GUEST_POLICY"), by bit number. */
const POLICY_BITS: Record<number, string> = {
  16: 'SMT',
  17: 'reserved, must be 1',
  18: 'MIGRATE_MA',
  19: 'DEBUG',
  20: 'SINGLE_SOCKET',
  21: 'CXL_ALLOW',
  22: 'MEM_AES_256_XTS',
  23: 'RAPL_DIS',
  24: 'CIPHERTEXT_HIDING_DRAM',
  25: 'PAGE_SWAP_DISABLE',
};

/** How two policy words differ: the ABI version fields, then each bit. */
export function policyDifferences(actual: bigint, expected: bigint): string[] {
  const out: string[] = [];
  const field = (v: bigint, shift: number) => Number((v >> BigInt(shift)) & 0xffn);
  if (field(actual, 0) !== field(expected, 0)) out.push(`ABI_MINOR ${field(actual, 0)} vs ${field(expected, 0)}`);
  if (field(actual, 8) !== field(expected, 8)) out.push(`ABI_MAJOR ${field(actual, 8)} vs ${field(expected, 8)}`);
  for (let bit = 16; bit < 64; bit += 1) {
    const a = (actual >> BigInt(bit)) & 1n;
    const e = (expected >> BigInt(bit)) & 1n;
    if (a !== e) out.push(`${POLICY_BITS[bit] ?? 'bit'} (bit ${bit}) ${a} vs ${e}`);
  }
  return out;
}

const hex = (b: Buffer) => b.toString('hex');

/** Every expectation the report does not meet. */
export function checkReport(report: SnpReport, expected: SnpReportExpectations): ReportMismatch[] {
  const out: ReportMismatch[] = [];
  const bytes = (field: string, actual: Buffer, want: Buffer | undefined) => {
    if (want !== undefined && !actual.equals(want)) out.push({ field, problem: `report ${hex(actual)}, expected ${hex(want)}` });
  };
  bytes('measurement', report.measurement, expected.measurement);
  bytes('host_data', report.hostData, expected.hostData);
  if (expected.policy !== undefined && report.policy !== expected.policy) {
    out.push({
      field: 'policy',
      problem: `report 0x${report.policy.toString(16)}, expected 0x${expected.policy.toString(16)} (report vs expected: ${policyDifferences(report.policy, expected.policy).join('; ')})`,
    });
  }
  if (expected.vmpl !== undefined && report.vmpl !== expected.vmpl) out.push({ field: 'vmpl', problem: `report ${report.vmpl}, expected ${expected.vmpl}` });
  bytes('family_id', report.familyId, expected.familyId);
  bytes('image_id', report.imageId, expected.imageId);
  if (expected.minimumGuestSvn !== undefined && report.guestSvn < expected.minimumGuestSvn) {
    out.push({ field: 'guest_svn', problem: `report ${report.guestSvn}, below the minimum ${expected.minimumGuestSvn}` });
  }
  const product = expected.product ?? 'Milan';
  const tcb = (field: string, actual: bigint, minimum: bigint | undefined) => {
    if (minimum === undefined) return;
    const short = tcbShortfalls(actual, minimum, product);
    if (short.length > 0) {
      out.push({ field, problem: `${short.join(', ')} (report ${formatTcb(tcbParts(actual, product))}; minimum ${formatTcb(tcbParts(minimum, product))})` });
    }
  };
  tcb('current_tcb', report.currentTcb, expected.minimumTcb);
  tcb('committed_tcb', report.committedTcb, expected.minimumTcb);
  tcb('reported_tcb', report.reportedTcb, expected.minimumTcb);
  tcb('launch_tcb', report.launchTcb, expected.minimumLaunchTcb);
  return out;
}

/**
 * The expectations of a policy in the shape the manager serves it
 * (go-sev-guest's check config in protojson: bytes as base64, 64-bit words
 * as decimal strings).
 */
export function expectationsFromPolicy(json: unknown): SnpReportExpectations {
  const root = (json ?? {}) as { policy?: Record<string, unknown>; rootOfTrust?: { product?: unknown } };
  const p = root.policy ?? {};
  const b64 = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64') : undefined);
  const big = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? BigInt(v) : undefined);
  const product = root.rootOfTrust?.product;
  return {
    ...(b64(p['measurement']) ? { measurement: b64(p['measurement']) as Buffer } : {}),
    ...(b64(p['hostData']) ? { hostData: b64(p['hostData']) as Buffer } : {}),
    ...(big(p['policy']) !== undefined ? { policy: big(p['policy']) as bigint } : {}),
    ...(typeof p['vmpl'] === 'number' ? { vmpl: p['vmpl'] } : {}),
    ...(b64(p['familyId']) ? { familyId: b64(p['familyId']) as Buffer } : {}),
    ...(b64(p['imageId']) ? { imageId: b64(p['imageId']) as Buffer } : {}),
    ...(typeof p['minimumGuestSvn'] === 'number' ? { minimumGuestSvn: p['minimumGuestSvn'] } : {}),
    ...(big(p['minimumTcb']) !== undefined ? { minimumTcb: big(p['minimumTcb']) as bigint } : {}),
    ...(big(p['minimumLaunchTcb']) !== undefined ? { minimumLaunchTcb: big(p['minimumLaunchTcb']) as bigint } : {}),
    ...(product === 'Milan' || product === 'Genoa' || product === 'Turin' ? { product } : {}),
  };
}
