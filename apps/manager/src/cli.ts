// The command-line interface (commander): loaded only when the binary is given
// arguments, so that a serving manager does not carry it.
import { Command, Option } from 'commander';
import { POLICY_ENCODER, resolveToken, type ManagerPlugin } from '@cocos-manager/core';
import { renderConfigReference } from './config-reference.js';
import { addMeasureCommand } from './measure-command.js';
import { addVerifyReportCommand } from './verify-report-command.js';
import { defaultPlugins } from './plugins.js';
import { build, fail, serve, VERSION } from './serve.js';

export function program(plugins: readonly ManagerPlugin[] = defaultPlugins): Command {
  const cli = new Command('cocos-manager')
    .description(
      'Launches and supervises confidential VMs (SEV-SNP, TDX, plain QEMU) and serves them over gRPC.\nConfigured by environment variables: see `cocos-manager config`.',
    )
    .version(VERSION)
    .action(() => serve(plugins));
  cli
    .command('serve', { isDefault: false })
    .description('run the manager (the default when no command is given)')
    .action(() => serve(plugins));
  cli
    .command('qemu-args')
    .description('print, as a JSON array, the exact argv one VM would be launched with under the current configuration; starts nothing')
    .action(async () => {
      const manager = build(plugins, { logToStderr: true });
      try {
        process.stdout.write(`${JSON.stringify(await manager.previewQemuArgv())}\n`);
      } catch (err) {
        fail(err);
      }
    });
  cli
    .command('attestation-policy')
    .description('print the attestation policy a VM gets under the current configuration (SEV-SNP or TDX); works on any host')
    .addOption(
      new Option(
        '--format <format>',
        'corim (CBOR, COSE_Sign1-signed with MANAGER_CORIM_SIGNING_KEY when set) or json (the upstream policy shape); default: MANAGER_ATTESTATION_POLICY_FORMAT',
      ).choices(['json', 'corim']),
    )
    .action(async (options: { format?: 'json' | 'corim' }) => {
      const manager = build(plugins, { logToStderr: true });
      try {
        // The same encoder as the AttestationPolicy RPC: one code path.
        const doc = await manager.service.previewAttestationPolicy();
        process.stdout.write(Buffer.from(resolveToken(manager.container, POLICY_ENCODER).encode(doc, options.format)));
      } catch (err) {
        fail(err);
      }
    });
  addMeasureCommand(cli);
  addVerifyReportCommand(cli, plugins);
  cli
    .command('config')
    .description('print the configuration variables of this build with their effective values (--reference: a Markdown table of all variables)')
    .option('--reference', 'print the reference table instead of effective values')
    .action((options: { reference?: boolean }) => {
      const manager = build(plugins);
      if (options.reference) {
        process.stdout.write(renderConfigReference(manager.config.settings()));
        return;
      }
      const values = manager.config.toEnvRecord();
      for (const [env, value] of Object.entries(values)) process.stdout.write(`${env}=${value}\n`);
    });
  return cli;
}
