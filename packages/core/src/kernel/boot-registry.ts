import type { BootStrategy } from '../api/boot-strategy.js';
import { ConfigError } from '../config/manager-config.js';

export const RAM_BOOT = 'ram';

/** Picks the boot strategy configuration selects; `ram` when none is. */
export class BootRegistry {
  constructor(readonly strategies: readonly BootStrategy[]) {}

  byName(name: string): BootStrategy | undefined {
    return this.strategies.find((s) => s.name === name);
  }

  choose(): BootStrategy {
    const selected = this.strategies.filter((s) => s.selected());
    if (selected.length > 1) {
      throw new ConfigError(`configuration selects several boot strategies (${selected.map((s) => s.name).join(', ')}): enable only one`);
    }
    const chosen = selected[0] ?? this.strategies.find((s) => s.name === RAM_BOOT);
    if (!chosen) throw new ConfigError("no boot strategy is available (core's ram strategy is missing)");
    return chosen;
  }
}
