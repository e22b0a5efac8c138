import { readInput } from '../inputs.js';
import { checkReport, type ReportMismatch, type SnpReportExpectations } from './report-checks.js';
import { checkChain, checkSignature, pickCertificate, readCertificates } from './report-signature.js';
import { parseSnpReport, type SnpReport } from './snp-report.js';

export interface ReportVerification {
  readonly report: SnpReport;
  /** Empty when everything checked holds. */
  readonly mismatches: readonly ReportMismatch[];
  /** What was checked: the expectation fields, `signature`, `chain`. */
  readonly checked: readonly string[];
}

export interface ReportFiles {
  readonly report: string;
  readonly vcek?: string | undefined;
  readonly ask?: string | undefined;
  readonly ark?: string | undefined;
}

/**
 * Checks an SEV-SNP attestation report against expectations (the policy the
 * manager gives the VM) and, given the VCEK (and optionally ASK and ARK: no
 * fetch from AMD's KDS), its signature and certificate chain.
 */
export async function verifySnpReport(files: ReportFiles, expected: SnpReportExpectations | null): Promise<ReportVerification> {
  const report = parseSnpReport(files.report, await readInput(files.report, 'attestation report'));
  const mismatches: ReportMismatch[] = expected ? [...checkReport(report, expected)] : [];
  const checked = expected ? Object.keys(expected).filter((k) => k !== 'product') : [];
  if (files.vcek !== undefined) {
    const vcek = pickCertificate(readCertificates(files.vcek, await readInput(files.vcek, 'VCEK certificate')), 'other');
    const ask = files.ask === undefined ? undefined : pickCertificate(readCertificates(files.ask, await readInput(files.ask, 'ASK certificate')), 'other');
    const ark = files.ark === undefined ? undefined : pickCertificate(readCertificates(files.ark, await readInput(files.ark, 'ARK certificate')), 'ark');
    if (vcek) {
      mismatches.push(...checkSignature(report, vcek), ...checkChain(vcek, ask, ark));
      checked.push('signature', ...(ask || ark ? ['chain'] : []));
    }
  }
  return { report, mismatches, checked };
}
