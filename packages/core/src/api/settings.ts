/**
 * How one setting's raw value (an environment string or a default) is checked
 * and turned into its typed value. `expected` completes the sentence
 * "VAR=value: expected …" printed when start-up refuses a value.
 */
export interface SettingFormat<T> {
  readonly expected: string;
  parse(raw: unknown): T;
}

/** One configuration variable: where it comes from, what it means, how it is checked. */
export interface SettingSpec<T = unknown> {
  readonly kind: 'setting';
  /** The environment variable (the Go manager's name where one exists). */
  readonly env: string;
  /** Other spellings accepted for the same setting (the seeds disagree on some). */
  readonly aliases: readonly string[];
  readonly doc: string;
  /** The default, in the same form an operator would write it. */
  readonly default: string;
  readonly format: SettingFormat<T>;
  /** Never printed, logged or echoed in an error. */
  readonly sensitive: boolean;
}

/** A plugin's (or core's) part of the configuration: nested keys down to settings. */
export interface ConfigSlice {
  readonly [key: string]: SettingSpec | ConfigSlice;
}

/**
 * The typed values of a slice, nested as it is declared: a setting's value has
 * the type its format parses to. What `ManagerConfig.read(slice)` returns.
 */
export type SliceValues<S> = {
  readonly [K in keyof S]: S[K] extends SettingSpec<infer T> ? T : SliceValues<S[K]>;
};

export function setting<T>(spec: {
  env: string;
  doc: string;
  default: string;
  format: SettingFormat<T>;
  aliases?: readonly string[];
  sensitive?: boolean;
}): SettingSpec<T> {
  return { kind: 'setting', aliases: [], sensitive: false, ...spec };
}

export function isSetting(value: SettingSpec | ConfigSlice): value is SettingSpec {
  return (value as SettingSpec).kind === 'setting' && typeof (value as SettingSpec).env === 'string';
}

/** Flattens a slice into dotted keys (`qemu.cpu`) and their settings. */
export function flattenSlice(slice: ConfigSlice, prefix = ''): Array<[string, SettingSpec]> {
  const out: Array<[string, SettingSpec]> = [];
  for (const [name, value] of Object.entries(slice)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (isSetting(value)) out.push([key, value]);
    else out.push(...flattenSlice(value, key));
  }
  return out;
}
