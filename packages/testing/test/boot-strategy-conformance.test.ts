import { describe, expect, it } from 'vitest';
import { bootStrategyConformanceCases, conformanceCase, describeBootStrategyConformance } from '../src/index.js';
import { BROKEN_BOOT_COMMANDS } from './broken-boots-command.js';
import { BROKEN_BOOT_FILES } from './broken-boots-files.js';
import { copyBootOptions } from './reference-boot.js';

// The suite on a strategy that keeps every rule: each case passes.
describeBootStrategyConformance(copyBootOptions());

const BROKEN_BOOTS = [...BROKEN_BOOT_COMMANDS, ...BROKEN_BOOT_FILES];

describe('the boot-strategy conformance suite catches a strategy that breaks a rule', () => {
  it('has a broken strategy for every case', () => {
    const ids = bootStrategyConformanceCases(copyBootOptions()).map((c) => c.id);
    expect([...new Set(BROKEN_BOOTS.map((b) => b.fails))].sort()).toEqual([...ids].sort());
  });

  it.each(BROKEN_BOOTS.map((b) => [b.what, b] as const))(
    '%s fails its case',
    async (_, boot) => {
      const cases = bootStrategyConformanceCases(boot.options);
      await expect(conformanceCase(cases, boot.fails).run(), `case "${boot.fails}"`).rejects.toThrow(boot.saying);
    },
    60_000,
  );
});
