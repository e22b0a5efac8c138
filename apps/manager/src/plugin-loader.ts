import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ManagerPlugin } from '@cocos-manager/core';
import { assertPluginShape, PluginError } from '@cocos-manager/core/internal';

/**
 * Resolves one MANAGER_PLUGINS entry: a path (starting with `.` or `/`), or
 * an npm package name looked up from the working directory, then from the
 * manager's own installation.
 */
function resolveEntry(entry: string): string {
  if (entry.startsWith('.') || path.isAbsolute(entry)) return path.resolve(entry);
  const bases = [path.join(process.cwd(), 'noop.js'), import.meta.url];
  for (const base of bases) {
    try {
      return createRequire(base).resolve(entry);
    } catch {
      // try the next place
    }
  }
  throw new PluginError(
    `MANAGER_PLUGINS: cannot find "${entry}" (not installed next to the manager or in ${process.cwd()}; give an npm package name or a path)`,
  );
}

/**
 * Loads the extra plugins MANAGER_PLUGINS lists (comma-separated). Each module
 * must export a plugin value (default export, or `plugin`); its shape is
 * checked here, and its supported core range with the rest of the list.
 */
export async function loadExtraPlugins(list: string | undefined): Promise<ManagerPlugin[]> {
  const entries = (list ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const plugins: ManagerPlugin[] = [];
  for (const entry of entries) {
    const file = resolveEntry(entry);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (err) {
      throw new PluginError(`MANAGER_PLUGINS: cannot load "${entry}" (${file}): ${(err as Error).message.split('\n')[0]}`);
    }
    const value = mod['default'] ?? mod['plugin'];
    try {
      assertPluginShape(value, plugins.length);
    } catch (err) {
      throw new PluginError(`MANAGER_PLUGINS: "${entry}" does not export a valid plugin (default export or \`plugin\`): ${(err as Error).message}`);
    }
    plugins.push(value);
  }
  return plugins;
}
