import type { ConfigSlice, SliceValues } from './settings.js';

export interface SettingDescription {
  readonly key: string;
  readonly env: string;
  readonly aliases: readonly string[];
  readonly doc: string;
  readonly default: string;
  readonly expected: string;
  readonly owner: string;
  readonly sensitive: boolean;
}

/**
 * The validated configuration of one manager instance, as plugins and core
 * read it (the CONFIG token).
 */
export interface ManagerConfig {
  /** The typed values of a declared slice: `config.read(grpcSettings).grpc.port` is a number. */
  read<S extends ConfigSlice>(slice: S): SliceValues<S>;
  /** One value by dotted key, untyped: prefer `read(slice)`, which the compiler checks. */
  get<T>(key: string): T;
  /** Every declared setting, for `--help`, generated docs and `config` output. */
  settings(): readonly SettingDescription[];
  /** The effective values by environment variable, sensitive ones redacted. */
  toEnvRecord(): Record<string, string>;
}
