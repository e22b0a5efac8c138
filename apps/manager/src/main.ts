#!/usr/bin/env node
import { Command, Option } from 'commander';
import {
  ConfigError,
  POLICY_ENCODER,
  resolveToken,
  CREATE_FAULTS,
  createFaultsFromEnv,
  Manager,
  ManagerError,
  PluginError,
  type ManagerPlugin,
  type TokenOverride,
} from '@cocos-manager/core';
import { renderConfigReference } from './config-reference.js';
import { loadExtraPlugins } from './plugin-loader.js';
import { defaultPlugins } from './plugins.js';

const VERSION = '0.1.0';

/** Start-up problems are one line on stderr, not a stack trace. */
function fail(err: unknown): never {
  const known = err instanceof ConfigError || err instanceof PluginError || err instanceof ManagerError;
  const message = (err instanceof Error ? err.message : String(err)).trim().split(/\r?\n/).join(' | ');
  process.stderr.write(`cocos-manager: ${message}\n`);
  if (!known && err instanceof Error && process.env['MANAGER_LOG_LEVEL'] === 'debug') process.stderr.write(`${err.stack}\n`);
  process.exit(known ? 2 : 1);
}

/** Test hooks of the binary (MANAGER_TEST_HOOKS=1): today, a crash drill inside a create. */
function testOverrides(): TokenOverride[] {
  try {
    const faults = createFaultsFromEnv(process.env);
    return faults ? [{ token: CREATE_FAULTS, useValue: faults }] : [];
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

function build(plugins: readonly ManagerPlugin[]): Manager {
  try {
    return Manager.create({ plugins, overrides: testOverrides() });
  } catch (err) {
    fail(err);
  }
}

/**
 * No silent death: an unhandled rejection or an uncaught exception (a
 * plugin's timer, a stray callback) is logged as one line with the error.
 * Once serving, the manager goes on — its VMs run in their own processes and
 * every request is independent; during start-up an exception still stops it
 * (`startingUp()` says which).
 */
function guardProcess(logger: Manager['logger'], startingUp: () => boolean): void {
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled promise rejection; the manager keeps serving');
  });
  process.on('uncaughtException', (err: Error) => {
    if (startingUp()) {
      logger.fatal({ err }, 'uncaught exception during start-up');
      logger.flush();
      fail(err);
    }
    logger.error({ err }, 'uncaught exception; the manager keeps serving');
  });
}

async function serve(plugins: readonly ManagerPlugin[]): Promise<void> {
  const manager = build(plugins);
  let starting = true;
  guardProcess(manager.logger, () => starting);
  try {
    await manager.start();
    starting = false;
  } catch (err) {
    await manager.stop().catch(() => undefined);
    manager.logger.flush();
    fail(err);
  }
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    manager.logger.info({ signal }, 'shutting down');
    manager.stop().then(
      () => {
        manager.logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        manager.logger.error({ err }, 'shutdown failed');
        manager.logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

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
      const manager = build(plugins);
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
      const manager = build(plugins);
      try {
        // The same encoder as the AttestationPolicy RPC: one code path.
        const doc = await manager.service.previewAttestationPolicy();
        process.stdout.write(Buffer.from(resolveToken(manager.container, POLICY_ENCODER).encode(doc, options.format)));
      } catch (err) {
        fail(err);
      }
    });
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

async function main(): Promise<void> {
  let extra: ManagerPlugin[];
  try {
    extra = await loadExtraPlugins(process.env['MANAGER_PLUGINS']);
  } catch (err) {
    fail(err);
  }
  await program([...defaultPlugins, ...extra]).parseAsync(process.argv);
}

main().catch((err: unknown) => fail(err));
