#!/usr/bin/env node
// Structure check (`npm run check:structure`): one job per file keeps files
// short, and core's vm/ folder shows the lifecycle: the VM model directly in
// it, every other job in a sub-folder (host/, state/, console/, lifecycle/).
// Fails naming every offender: a code file the repository tracks (sources,
// tests, test harnesses, bench and scripts: .ts .mjs .js .cjs .sh) with more
// than MAX_LINES lines, or more than VM_MODEL_FILES .ts files directly under
// packages/core/src/vm/.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const MAX_LINES = 300;
const VM_DIR = 'packages/core/src/vm';
const VM_MODEL_FILES = 10;

function lineCount(file) {
  const text = readFileSync(file, 'utf8');
  if (text.length === 0) return 0;
  const lines = text.split('\n').length;
  return text.endsWith('\n') ? lines - 1 : lines;
}

const CODE = /\.(ts|mjs|js|cjs|sh)$/;

/** The repository's code files: tracked by git, or new and not ignored (nothing built, installed or generated). */
function codeFiles() {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  }).split('\0');
  // A tracked file deleted in the work tree is not there to check.
  return [...new Set(listed)].filter((file) => CODE.test(file) && existsSync(join(root, file)));
}

const offenders = [];
let checked = 0;
for (const file of codeFiles()) {
  checked += 1;
  const lines = lineCount(join(root, file));
  if (lines > MAX_LINES) offenders.push(`${file}: ${lines} lines (at most ${MAX_LINES} allowed for any code file: split it by job)`);
}

if (checked === 0) {
  console.error('check-structure: git lists no code file here; run it from a clone of the repository');
  process.exit(1);
}
const vmModel = readdirSync(join(root, VM_DIR), { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.ts'));
if (vmModel.length > VM_MODEL_FILES) {
  offenders.push(
    `${VM_DIR}: ${vmModel.length} .ts files directly in it (at most ${VM_MODEL_FILES}: the VM model; put the rest in host/, state/, console/ or lifecycle/)`,
  );
}
if (offenders.length > 0) {
  console.error(`check-structure: ${offenders.length} problem(s):`);
  for (const line of offenders) console.error(`  ${line}`);
  process.exit(1);
}
console.log(`check-structure: ${checked} code files, none over ${MAX_LINES} lines; ${vmModel.length} files directly in ${VM_DIR}`);
