// `cocos-manager verify-report`: an SEV-SNP attestation report checked
// against the policy this manager gives its VMs and, given the VCEK (and the
// ASK/ARK: certificates are inputs, nothing is fetched from AMD's KDS), its
// signature and chain. Exit 0 verified, 1 a field does not hold, 2 bad input.
import type { Command } from 'commander';
import type { ManagerPlugin } from '@cocos-manager/core';
import { expectationsFromPolicy, MeasureError, MeasureErrorCode, verifySnpReport, type SnpReportExpectations } from '@cocos-manager/measure';
import { exitTwoOnUsageError, failMeasure } from './measure-command.js';
import { build } from './serve.js';

interface Flags {
  report?: string;
  vcek?: string;
  ask?: string;
  ark?: string;
  policy: boolean;
}

const usage = (problem: string) => new MeasureError(MeasureErrorCode.BadOption, null, problem);

/** The expectations of the policy this manager's SEV-SNP backend gives a VM now. */
async function managerExpectations(plugins: readonly ManagerPlugin[]): Promise<SnpReportExpectations> {
  const doc = await build(plugins, { logToStderr: true }).service.previewAttestationPolicy();
  if (doc.tee !== 'sev-snp')
    throw usage(`the active backend is ${doc.tee}, whose VMs have no SEV-SNP reports (set MANAGER_QEMU_ENABLE_SEV_SNP=true, or --no-policy)`);
  return expectationsFromPolicy(doc.json);
}

export function addVerifyReportCommand(cli: Command, plugins: readonly ManagerPlugin[]): void {
  cli
    .command('verify-report')
    .description(
      "check an SEV-SNP attestation report: measurement, host data, policy, VMPL, family/image ids, guest SVN and minimum TCBs against the policy this manager gives its VMs; with --vcek, the report's signature; with --ask/--ark, the certificate chain",
    )
    .option('--report <file>', 'the attestation report (1184 bytes, version 2 or later)')
    .option('--vcek <file>', 'the VCEK (or VLEK) certificate, PEM or DER')
    .option('--ask <file>', "AMD's ASK certificate (a file holding ASK and ARK will do)")
    .option('--ark <file>', "AMD's ARK certificate")
    .option('--no-policy', "do not compare with this manager's policy (parse, signature and chain only)")
    .exitOverride(exitTwoOnUsageError)
    .action(async (flags: Flags) => {
      try {
        if (flags.report === undefined) throw usage('missing --report FILE');
        if ((flags.ask !== undefined || flags.ark !== undefined) && flags.vcek === undefined)
          throw usage('--ask and --ark check the chain of --vcek: give --vcek too');
        const expected = flags.policy ? await managerExpectations(plugins) : null;
        const result = await verifySnpReport({ report: flags.report, vcek: flags.vcek, ask: flags.ask, ark: flags.ark }, expected);
        if (result.mismatches.length > 0) {
          for (const m of result.mismatches) process.stderr.write(`cocos-manager: report ${m.field}: ${m.problem}\n`);
          process.exit(1);
        }
        process.stdout.write(`verified: ${result.checked.length > 0 ? result.checked.join(', ') : 'the report parses (nothing else was asked)'}\n`);
      } catch (err) {
        failMeasure(err);
      }
    });
}
