import { describe, it } from 'vitest';

/**
 * One rule of a conformance suite, runnable on its own: `run` resolves when
 * the implementation keeps the rule and throws (an assertion error) when it
 * breaks it. Suites are lists of these, so the test kit's own tests can run
 * one case against a deliberately broken implementation and expect it to fail.
 */
export interface ConformanceCase {
  /** A stable key (`cleanup`, `writes-inside`…) tests pick a case by. */
  readonly id: string;
  /** What the rule is, as the test's title. */
  readonly title: string;
  run(): Promise<void>;
}

/** The cases as vitest tests, one `it` each, under one `describe`. */
export function describeConformance(title: string, cases: readonly ConformanceCase[]): void {
  describe(title, () => {
    for (const c of cases) it(c.title, () => c.run(), 60_000);
  });
}

/** The case with this id (a typo in a test is an error, not a case that never runs). */
export function conformanceCase(cases: readonly ConformanceCase[], id: string): ConformanceCase {
  const found = cases.find((c) => c.id === id);
  if (!found) throw new Error(`no conformance case "${id}" (there are: ${cases.map((c) => c.id).join(', ')})`);
  return found;
}

/** Awaits what must succeed; a rejection fails the case naming what failed (vitest's `resolves` drops the label). */
export async function mustResolve(work: Promise<unknown>, what: string): Promise<void> {
  try {
    await work;
  } catch (err) {
    throw new Error(`${what} failed: ${String(err)}`, { cause: err });
  }
}
