import semver from 'semver';
import type { ManagerPlugin } from '../api/plugin.js';
import { CORE_TOKENS } from '../api/tokens.js';
import { describeToken } from '../tokens.js';
import { ManagerError } from '../errors.js';

/** A plugin that cannot be loaded as it is (PLUGIN_INVALID): one line naming it and what is wrong. */
export class PluginError extends ManagerError {
  constructor(message: string) {
    super('PLUGIN_INVALID', message);
    this.name = 'PluginError';
  }
}

// npm package names: lower case, optional scope.
const PLUGIN_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

const label = (value: unknown, index: number): string => {
  const name = (value as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? `plugin "${name}"` : `plugin #${index + 1}`;
};

/** Checks a value loaded from somewhere (a package) really is a plugin. */
export function assertPluginShape(value: unknown, index = 0): asserts value is ManagerPlugin {
  const who = label(value, index);
  if (typeof value !== 'object' || value === null) throw new PluginError(`${who}: is not a plugin object (got ${value === null ? 'null' : typeof value})`);
  const p = value as Record<string, unknown>;
  if (typeof p['name'] !== 'string' || !PLUGIN_NAME.test(p['name'])) {
    throw new PluginError(`${who}: name ${JSON.stringify(p['name'])} must be an npm package name such as @scope/name`);
  }
  if (typeof p['version'] !== 'string' || semver.valid(p['version']) === null) {
    throw new PluginError(`${who}: version ${JSON.stringify(p['version'])} is not a semver version`);
  }
  if (typeof p['coreVersionRange'] !== 'string' || semver.validRange(p['coreVersionRange']) === null) {
    throw new PluginError(`${who}: coreVersionRange ${JSON.stringify(p['coreVersionRange'])} is not a semver range`);
  }
  if (typeof p['register'] !== 'function') throw new PluginError(`${who}: register must be a function (container, config) => void`);
  for (const field of ['provides', 'mayProvide', 'requires'] as const) {
    const list = p[field];
    if (list !== undefined && (!Array.isArray(list) || list.some((t) => typeof t !== 'symbol'))) {
      throw new PluginError(`${who}: ${field} must be a list of tokens`);
    }
  }
  if (p['configSchema'] !== undefined && (typeof p['configSchema'] !== 'object' || p['configSchema'] === null)) {
    throw new PluginError(`${who}: configSchema must be an object of settings`);
  }
}

/**
 * The kernel's up-front checks of a plugin list, before anything is resolved:
 * shape and name, supported core version, duplicates, single tokens with two
 * providers, requirements nobody provides. Throws one message naming the
 * plugin and the problem.
 */
export function checkPlugins(plugins: readonly unknown[], coreVersion: string): ManagerPlugin[] {
  const checked: ManagerPlugin[] = [];
  const names = new Set<string>();
  const providers = new Map<symbol, string>();
  for (const t of CORE_TOKENS) providers.set(t, '@cocos-manager/core');
  // Who may register each token (a `mayProvide` too): single tokens have one.
  const registrants = new Map(providers);

  plugins.forEach((value, index) => {
    assertPluginShape(value, index);
    const plugin = value;
    if (names.has(plugin.name)) throw new PluginError(`plugin "${plugin.name}": listed twice`);
    names.add(plugin.name);
    if (!semver.satisfies(coreVersion, plugin.coreVersionRange, { includePrerelease: true })) {
      throw new PluginError(`plugin "${plugin.name}": supports @cocos-manager/core ${plugin.coreVersionRange}, but this is core ${coreVersion}`);
    }
    for (const [token, definite] of [...(plugin.provides ?? []).map((t) => [t, true] as const), ...(plugin.mayProvide ?? []).map((t) => [t, false] as const)]) {
      const info = describeToken(token);
      const existing = registrants.get(token);
      if (existing !== undefined && !info.multi) {
        throw new PluginError(`plugin "${plugin.name}": provides ${info.name}, which ${existing} already provides (only one provider is allowed)`);
      }
      registrants.set(token, plugin.name);
      if (definite) providers.set(token, plugin.name);
    }
    checked.push(plugin);
  });

  for (const plugin of checked) {
    for (const token of plugin.requires ?? []) {
      if (!providers.has(token)) {
        throw new PluginError(`plugin "${plugin.name}": requires ${describeToken(token).name}, which no plugin in the list provides`);
      }
    }
  }
  return checked;
}
