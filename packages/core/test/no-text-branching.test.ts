import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * A failure's identity is a typed field (an error code, a reason), never its
 * text: text is for people and changes with them, and a branch on it breaks
 * silently (the fake launcher had to copy the real one's strings). Looks for
 * the shapes such a branch takes on an error's `message` or a check's `why`.
 */
const TEXT_BRANCHES: readonly RegExp[] = [
  /\.(message|why)\s*\.\s*(includes|startsWith|endsWith|match|matchAll|search|indexOf)\s*\(/,
  /\.test\(\s*[\w.()?!\s]*\.(message|why)\s*\)/,
  /\.(message|why)\s*[!=]==?\s*['"`]/,
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function textBranches(): string[] {
  const roots = ['packages', 'apps', 'examples'].flatMap((top) => readdirSync(path.join(REPO, top)).map((name) => path.join(REPO, top, name, 'src')));
  const hits: string[] = [];
  for (const root of roots) {
    let files: string[];
    try {
      files = sources(root);
    } catch {
      continue; // a package without src/
    }
    for (const file of files) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (TEXT_BRANCHES.some((pattern) => pattern.test(line))) hits.push(`${path.relative(REPO, file)}:${i + 1}: ${line.trim()}`);
        });
    }
  }
  return hits;
}

describe('no branch on the text of an error or a check', () => {
  it('the sources of every package and app', () => {
    expect(textBranches()).toEqual([]);
  });

  it('the scan finds the shapes it looks for', () => {
    const samples = [
      "if (check.why.endsWith('is not running')) {",
      "if (err.message.includes('EEXIST')) {",
      'if (/not found/.test((err as Error).message)) {',
      "if (error.message === 'timeout') {",
    ];
    for (const sample of samples)
      expect(
        TEXT_BRANCHES.some((p) => p.test(sample)),
        sample,
      ).toBe(true);
    expect(TEXT_BRANCHES.some((p) => p.test("log.warn({ reason: err.message }, 'failed');"))).toBe(false);
  });
});
