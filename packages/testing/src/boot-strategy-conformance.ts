import { commandCases } from './boot-conformance-command.js';
import { fileCases } from './boot-conformance-files.js';
import type { BootStrategyConformanceOptions } from './boot-conformance-world.js';
import { describeConformance, type ConformanceCase } from './conformance-case.js';

export type { BootStrategyConformanceOptions } from './boot-conformance-world.js';

/**
 * The rules every BootStrategy keeps, as named cases:
 * - `resolves`: it resolves through DI from its plugins, once, under a stable lower-case name;
 * - `selection`: its switch selects it and nothing else does (`ram`: never selected, the fallback);
 * - `validate`: it accepts its boot media and refuses them once gone, with a ConfigError naming the file;
 * - `contribution`: it adds only firmware, storage and boot elements; valid, deterministic, per-VM argv;
 * - `command`: its arguments are in the manager's whole command, where no once-only option or id repeats;
 * - `writes-inside`: prepare writes only the VM's own files (0600), in its directory or where configured,
 *   and the command names only those and the boot media;
 * - `no-follow`: prepare does not write through a link planted where its files go;
 * - `cleanup`: cleanup removes exactly what prepare made, is idempotent, copes with no prepare and no directory;
 * - `failure`: a prepare that cannot work fails with a catalogue ManagerError showing no host path
 *   (or, for a strategy that reads no media at prepare, succeeds), and cleanup then leaves nothing.
 */
export function bootStrategyConformanceCases(options: BootStrategyConformanceOptions): ConformanceCase[] {
  return [...commandCases(options), ...fileCases(options)];
}

/**
 * The cases as vitest tests. Call it at the top level of a test file:
 *
 *   describeBootStrategyConformance({
 *     plugins: [myPlugin],
 *     strategyName: 'my-boot',
 *     selectedBy: { MY_BOOT_ENABLE: 'true' },
 *     media: async (dir) => ({ MY_BOOT_IMAGE: await makeImage(dir) }),
 *     preparesFromMedia: true,
 *   });
 */
export function describeBootStrategyConformance(options: BootStrategyConformanceOptions): void {
  const from = options.plugins.length === 0 ? 'core' : options.plugins.map((p) => p.name).join(', ');
  describeConformance(`BootStrategy conformance: ${options.strategyName} (${from})`, bootStrategyConformanceCases(options));
}
