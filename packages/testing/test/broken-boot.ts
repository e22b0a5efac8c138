import type { BootStrategyConformanceOptions } from '../src/index.js';
import { copyBootOptions, type CopyBoot } from './reference-boot.js';

/** A strategy that breaks one rule, the conformance case that must catch it, and what that case says. */
export interface BrokenBoot {
  readonly what: string;
  readonly options: BootStrategyConformanceOptions;
  readonly fails: string;
  readonly saying: RegExp;
}

/** Counts calls, for the strategies whose answers change from call to call. */
export const counter = { n: 0 };

export const broken = (
  what: string,
  fails: string,
  saying: RegExp,
  strategy: typeof CopyBoot,
  extra: Partial<BootStrategyConformanceOptions> = {},
): BrokenBoot => ({
  what,
  fails,
  saying,
  options: copyBootOptions((c) => new strategy(c), extra),
});
