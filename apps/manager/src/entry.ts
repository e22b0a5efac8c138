// What the binary runs once main.ts has set up the process.
import type { ManagerPlugin } from '@cocos-manager/core';
import { loadExtraPlugins } from './plugin-loader.js';
import { defaultPlugins } from './plugins.js';
import { fail, serve } from './serve.js';

/** `cocos-manager` or `cocos-manager serve` alone: serve, without loading the CLI parser. */
function servesPlainly(argv: readonly string[]): boolean {
  return argv.length === 2 || (argv.length === 3 && argv[2] === 'serve');
}

async function main(): Promise<void> {
  let extra: ManagerPlugin[];
  try {
    extra = await loadExtraPlugins(process.env['MANAGER_PLUGINS']);
  } catch (err) {
    fail(err);
  }
  const plugins = [...defaultPlugins, ...extra];
  if (servesPlainly(process.argv)) return serve(plugins);
  const { program } = await import('./cli.js');
  await program(plugins).parseAsync(process.argv);
}

main().catch((err: unknown) => fail(err));
