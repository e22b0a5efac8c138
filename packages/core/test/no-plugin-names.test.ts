import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

/**
 * The names of the backends we ship. Core chooses among backends by what they
 * declare, so none of these may appear in its source, not even in a comment:
 * a name in core is a place where a plugin's knowledge leaked in.
 */
const PLUGIN_NAMES: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'sev-snp', pattern: /sev-snp/i },
  { name: 'tdx', pattern: /tdx/i },
  { name: 'plain', pattern: /\bplain\b/i },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : [full];
  });
}

/** Every `file:line: text` under `root` where a plugin name occurs. */
function findPluginNames(root: string): string[] {
  const hits: string[] = [];
  for (const file of sourceFiles(root)) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        for (const { name, pattern } of PLUGIN_NAMES) {
          if (pattern.test(line)) hits.push(`${path.relative(path.resolve(root, '..'), file)}:${index + 1}: "${name}" in ${line.trim()}`);
        }
      });
  }
  return hits;
}

describe('core knows no plugin by name', () => {
  it('has source files to check', () => {
    expect(sourceFiles(SRC).filter((f) => f.endsWith('.ts')).length).toBeGreaterThan(20);
  });

  it('names no backend anywhere in packages/core/src', () => {
    const hits = findPluginNames(SRC);
    expect(hits, `backend names in core (reword generically, or move the knowledge into the backend):\n${hits.join('\n')}`).toEqual([]);
  });

  it('the check itself catches each name, in any case, and plain only as a word', () => {
    const lines = ['// picks TDX first', "const name = 'Sev-Snp';", 'a plain VM', 'plaintext is fine', 'explained'];
    const found = lines.map((line) => PLUGIN_NAMES.filter(({ pattern }) => pattern.test(line)).map(({ name }) => name));
    expect(found).toEqual([['tdx'], ['sev-snp'], ['plain'], [], []]);
  });
});
