// `cocos-manager measure`: a launch digest with virtee/sev-snp-measure's flag
// names (so operators can swap one for the other), from OVMF or IGVM, or a
// TDX MRTD. The digest alone on stdout; problems on stderr, exit status 2.
import type { Command } from 'commander';
import { formatDigest, measureLaunch, measureOptionsFromFlags, MeasureError, type MeasureFlags } from '@cocos-manager/measure';
import { fail } from './serve.js';

/** A measurement input problem: one line, exit 2. */
export function failMeasure(err: unknown): never {
  if (err instanceof MeasureError) {
    process.stderr.write(`cocos-manager: ${err.message}\n`);
    process.exit(2);
  }
  return fail(err);
}

/** Usage errors of these commands exit 2 as well (commander has printed the message). */
export const exitTwoOnUsageError = (err: { exitCode: number }) => process.exit(err.exitCode === 0 ? 0 : 2);

export function addMeasureCommand(cli: Command): void {
  cli
    .command('measure')
    .description(
      'print the launch digest of a VM: SEV-SNP (--mode snp) from an OVMF image as virtee/sev-snp-measure computes it, or from an IGVM file as igvmmeasure does; SEV-ES and SEV (seves, sev); the TDX MRTD of a TDVF image (tdx)',
    )
    .option('--mode <mode>', 'snp, seves, sev or tdx')
    .option('--ovmf <file>', 'the OVMF (for tdx: TDVF) firmware image')
    .option('--igvm <file>', 'an IGVM file (snp only), instead of --ovmf')
    .option('--vcpus <n>', 'number of guest vCPUs (snp and seves with --ovmf)')
    .option('--vcpu-type <type>', 'QEMU CPU model: EPYC, EPYC-v1..v4, EPYC-IBPB, EPYC-Rome[-v1..v3], EPYC-Milan[-v1,-v2], EPYC-Genoa[-v1], EPYC-Turin')
    .option('--vcpu-sig <value>', 'guest vCPU signature (CPUID Fn0000_0001_EAX), decimal or 0x hex')
    .option('--vcpu-family <n>', 'guest vCPU family (with --vcpu-model and --vcpu-stepping)')
    .option('--vcpu-model <n>', 'guest vCPU model')
    .option('--vcpu-stepping <n>', 'guest vCPU stepping')
    .option('--guest-features <value>', 'SEV_FEATURES of the SNP VMSAs (default 0x1)')
    .option('--vmm-type <type>', 'QEMU (default), ec2 or gce')
    .option('--kernel <file>', 'direct kernel boot: the kernel (needs a KERNEL_HASHES section / SEV hash table)')
    .option('--initrd <file>', 'direct kernel boot: the initrd (with --kernel)')
    .option('--append <cmdline>', 'direct kernel boot: the command line (with --kernel)')
    .option('--native-zero', 'IGVM: measure pages without data as SNP zero pages (igvmmeasure --native-zero)')
    .option('--ignore-idblock', "IGVM: do not fail when the file's SNP ID block expects another digest")
    .option('--tdx-page-add-order <order>', 'tdx: single-pass (KVM since Linux 6.16, default) or two-pass')
    .option('--output-format <format>', 'hex (default) or base64')
    .exitOverride(exitTwoOnUsageError)
    .action(async (flags: MeasureFlags) => {
      try {
        const { options, outputFormat } = measureOptionsFromFlags(flags);
        const result = await measureLaunch(options);
        for (const warning of result.warnings) process.stderr.write(`cocos-manager: warning: ${warning}\n`);
        process.stdout.write(`${formatDigest(result.digest, outputFormat)}\n`);
      } catch (err) {
        failMeasure(err);
      }
    });
}
