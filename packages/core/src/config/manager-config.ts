import convict from 'convict';
import type { ManagerConfig, SettingDescription } from '../api/manager-config.js';
import { flattenSlice, isSetting, type ConfigSlice, type SettingSpec, type SliceValues } from '../api/settings.js';
import { ManagerError } from '../errors.js';

export type { ManagerConfig, SettingDescription };

/** A start-up configuration problem: one line naming the variable, the value and what is expected. */
export class ConfigError extends ManagerError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
    this.name = 'ConfigError';
  }
}

export interface ConfigSliceSource {
  /** Who declared the slice (`@cocos-manager/core`, a plugin name): named in collisions. */
  readonly owner: string;
  readonly slice: ConfigSlice;
}

type Schema = Record<string, unknown>;

/** Loads a configuration from slices and an environment (see `LoadedConfig.load`). */
export function loadManagerConfig(sources: readonly ConfigSliceSource[], env: Readonly<Record<string, string | undefined>>): ManagerConfig {
  return LoadedConfig.load(sources, env);
}

/**
 * The merged, validated configuration of one manager instance. Backed by
 * convict (schema, defaults, environment mapping); every value is checked by
 * its setting's format once, at start, and stored typed.
 */
class LoadedConfig implements ManagerConfig {
  private readonly slices = new WeakMap<ConfigSlice, unknown>();

  private constructor(
    /** Raw values as convict loaded them (defaults and environment). */
    private readonly store: convict.Config<Schema>,
    /** The same values checked and typed by their formats. */
    private readonly values: ReadonlyMap<string, unknown>,
    private readonly described: readonly SettingDescription[],
  ) {}

  static load(sources: readonly ConfigSliceSource[], env: Readonly<Record<string, string | undefined>>): LoadedConfig {
    const entries = collect(sources);
    const effectiveEnv = resolveEnvironment(entries, env);

    const schema: Schema = {};
    for (const { key, spec } of entries) {
      setPath(schema, key, {
        doc: spec.doc,
        default: spec.default,
        env: spec.env,
        // Checked by our own formats below, so convict must not coerce.
        format: '*',
        sensitive: spec.sensitive,
      });
    }
    const store = convict<Schema>(schema as convict.Schema<Schema>, { env: effectiveEnv.values, args: [] });

    store.validate({ allowed: 'strict' });
    const values = new Map<string, unknown>();
    for (const { key, spec } of entries) {
      const raw: unknown = store.get(key as never);
      let parsed: unknown;
      try {
        parsed = spec.format.parse(raw);
      } catch {
        const source = effectiveEnv.sourceName.get(spec.env);
        const shown = spec.sensitive ? '<redacted>' : JSON.stringify(raw);
        const where = source ?? `${spec.env} (default)`;
        throw new ConfigError(`${where}=${shown}: expected ${spec.format.expected}`);
      }
      values.set(key, parsed);
    }

    const described = entries.map(({ key, spec, owner }) => ({
      key,
      env: spec.env,
      aliases: spec.aliases,
      doc: spec.doc,
      default: spec.default,
      expected: spec.format.expected,
      owner,
      sensitive: spec.sensitive,
    }));
    return new LoadedConfig(store, values, described);
  }

  /**
   * The typed values of a declared slice (core's, or a plugin's own
   * `configSchema`): `config.read(grpcSettings).grpc.port` is a number. The
   * slice must be one this manager loaded; values are fixed at start, so the
   * object is built once per slice.
   */
  read<S extends ConfigSlice>(slice: S): SliceValues<S> {
    const cached = this.slices.get(slice);
    if (cached) return cached as SliceValues<S>;
    const build = (node: ConfigSlice, prefix: string): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(node)) {
        const key = prefix ? `${prefix}.${name}` : name;
        if (!isSetting(value)) {
          out[name] = build(value, key);
          continue;
        }
        const declared = this.described.find((d) => d.key === key);
        if (!declared || declared.env !== value.env) {
          throw new ConfigError(`configuration key "${key}" (${value.env}) is not declared by core or any loaded plugin`);
        }
        out[name] = this.values.get(key);
      }
      return Object.freeze(out);
    };
    const values = build(slice, '');
    this.slices.set(slice, values);
    return values as SliceValues<S>;
  }

  /** One value by dotted key, untyped: prefer `read(slice)`, which the compiler checks. */
  get<T>(key: string): T {
    if (!this.values.has(key)) {
      throw new ConfigError(`configuration key "${key}" is not declared by core or any loaded plugin`);
    }
    return this.values.get(key) as T;
  }

  /** Every declared setting, for `--help`, generated docs and `config` output. */
  settings(): readonly SettingDescription[] {
    return this.described;
  }

  /** The effective values by environment variable, sensitive ones redacted. */
  toEnvRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const s of this.described) {
      const value: unknown = this.store.get(s.key as never);
      out[s.env] = s.sensitive && value ? '<redacted>' : renderValue(value);
    }
    return out;
  }
}

/** A raw value as convict holds it (the environment's string or the default, never parsed). */
function renderValue(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

interface Entry {
  key: string;
  spec: SettingSpec;
  owner: string;
}

function collect(sources: readonly ConfigSliceSource[]): Entry[] {
  const byKey = new Map<string, Entry>();
  const byEnv = new Map<string, Entry>();
  const entries: Entry[] = [];
  for (const { owner, slice } of sources) {
    for (const [key, spec] of flattenSlice(slice)) {
      const entry = { key, spec, owner };
      const sameKey = byKey.get(key);
      if (sameKey) {
        throw new ConfigError(`configuration key "${key}" is declared by both ${sameKey.owner} and ${owner}`);
      }
      for (const name of [spec.env, ...spec.aliases]) {
        const sameEnv = byEnv.get(name);
        if (sameEnv) {
          throw new ConfigError(`environment variable ${name} is declared by both ${sameEnv.owner} (${sameEnv.key}) and ${owner} (${key})`);
        }
        byEnv.set(name, entry);
      }
      byKey.set(key, entry);
      entries.push(entry);
    }
  }
  return entries;
}

/**
 * Applies the spelling aliases and drops empty variables (an empty variable
 * means "use the default", as with the Go manager's env parsing).
 */
function resolveEnvironment(entries: readonly Entry[], env: Readonly<Record<string, string | undefined>>) {
  const values: Record<string, string> = {};
  const sourceName = new Map<string, string>();
  for (const { spec } of entries) {
    const given = [spec.env, ...spec.aliases].filter((name) => (env[name] ?? '') !== '');
    const distinct = new Set(given.map((name) => env[name]));
    if (distinct.size > 1) {
      throw new ConfigError(`${given.join(' and ')} are both set, to different values: set only one of them`);
    }
    const name = given[0];
    if (name !== undefined) {
      values[spec.env] = env[name] as string;
      sourceName.set(spec.env, name);
    }
  }
  return { values, sourceName };
}

function setPath(target: Schema, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node = (node[part] ??= {}) as Schema;
  }
  node[parts[parts.length - 1] as string] = value;
}
