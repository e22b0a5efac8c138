#!/usr/bin/env node
// Structure check (`npm run check:structure`): one job per file keeps files
// short, and core's vm/ folder shows the lifecycle: the VM model directly in
// it, every other job in a sub-folder (host/, state/, console/, lifecycle/).
// Fails naming every offender: a .ts file under packages/*/src, apps/*/src or
// examples/*/src with more than MAX_LINES lines, or more than VM_MODEL_FILES
// .ts files directly under packages/core/src/vm/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
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

function tsFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...tsFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.ts')) found.push(path);
  }
  return found;
}

function sourceDirs() {
  const dirs = [];
  for (const group of ['packages', 'apps', 'examples']) {
    let names;
    try {
      names = readdirSync(join(root, group));
    } catch {
      continue;
    }
    for (const name of names) {
      const src = join(root, group, name, 'src');
      try {
        if (statSync(src).isDirectory()) dirs.push(src);
      } catch {
        // a workspace folder without src/ has nothing to check
      }
    }
  }
  return dirs;
}

const offenders = [];
let checked = 0;
for (const dir of sourceDirs()) {
  for (const file of tsFiles(dir)) {
    checked += 1;
    const rel = relative(root, file).split('\\').join('/');
    const lines = lineCount(file);
    if (lines > MAX_LINES) offenders.push(`${rel}: ${lines} lines (at most ${MAX_LINES} allowed for any source file)`);
  }
}

if (checked === 0) {
  console.error('check-structure: no .ts file found under packages/*/src, apps/*/src or examples/*/src; run it from the repository');
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
console.log(`check-structure: ${checked} source files, none over ${MAX_LINES} lines; ${vmModel.length} files directly in ${VM_DIR}`);
