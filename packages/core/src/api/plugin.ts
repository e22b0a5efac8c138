import type { DependencyContainer } from 'tsyringe';
import type { ConfigSlice } from './settings.js';
import type { ManagerConfig } from './manager-config.js';

/**
 * A plugin: a value (no class, no side effect) an npm package exports. The kernel checks the list
 * of plugins before anything is resolved, merges their configuration slices,
 * then calls `register` on a fresh container per manager instance.
 */
export interface ManagerPlugin {
  /** The npm package name (`@cocos-manager/transport-grpc`, `acme-backend`). */
  readonly name: string;
  /** The plugin's own semver version. */
  readonly version: string;
  /** The semver range of @cocos-manager/core it works with (`^0.1.0`). */
  readonly coreVersionRange: string;
  /** The plugin's configuration variables. */
  readonly configSchema?: ConfigSlice;
  /**
   * Tokens `register` provides (it must register each). Single tokens may
   * have only one provider among all plugins. Registering a token the plugin
   * declares neither here nor in `mayProvide` is refused at start-up: a
   * plugin cannot replace what core or another plugin provides unseen.
   */
  readonly provides?: readonly symbol[];
  /**
   * Tokens `register` may provide or not, depending on its configuration
   * (the web console's pages when it is enabled). Counted as provided by the
   * one-provider rule, never as meeting another plugin's `requires`.
   */
  readonly mayProvide?: readonly symbol[];
  /** Tokens the plugin needs that core or another plugin must provide. */
  readonly requires?: readonly symbol[];
  /** Registers providers. Register into `container` only: never tsyringe's global container. */
  register(container: DependencyContainer, config: ManagerConfig): void;
}

/** Identity helper that gives a plugin literal its type. */
export function definePlugin(plugin: ManagerPlugin): ManagerPlugin {
  return plugin;
}
