// Trims a staged app to what runs: in node_modules, the packages' tests,
// benchmarks, examples, docs, CI and tool configs (dot files), TypeScript
// sources and declarations, source maps and bin links; in our own packages,
// declarations and source maps. Nothing here is loaded at run time, and each
// file costs the package (lintian reads every one). Execute bits stay only
// on scripts (#!) and ELF files.
//   usage: node scripts/package/prune-modules.mjs <staged app dir>
import { chmodSync, closeSync, existsSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(process.argv[2] ?? '');
if (!process.argv[2] || !existsSync(path.join(root, 'node_modules'))) {
  console.error(`prune-modules: expected a staged app (with node_modules/), got ${process.argv[2] ?? 'nothing'}`);
  process.exit(2);
}
const NOISE_DIRS = new Set([
  'test',
  'tests',
  '__tests__',
  'benchmark',
  'benchmarks',
  'bench',
  'example',
  'examples',
  'docs',
  'coverage',
  'integration',
  '.bin',
]);
const NOISE_FILE = /(\.(md|markdown|map|html|ts|mts|cts)|^\..*)$/i;
const LICENCE = /^(licen[cs]e|copying|notice)/i;
const DECLARATIONS = /\.d\.[mc]?ts(\.map)?$|\.js\.map$/;
let removed = 0;

function startsExecutable(file) {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    return (n >= 2 && head.toString('latin1', 0, 2) === '#!') || (n === 4 && head.toString('latin1') === '\x7fELF');
  } finally {
    closeSync(fd);
  }
}

function prune(dir, inModules) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const where = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      if (inModules && NOISE_DIRS.has(entry.name)) {
        rmSync(where, { recursive: true });
        removed++;
      } else {
        prune(where, inModules || entry.name === 'node_modules');
      }
      continue;
    }
    // npm's record of the installed versions stays.
    const noise = inModules ? NOISE_FILE.test(entry.name) && !LICENCE.test(entry.name) && entry.name !== '.package-lock.json' : DECLARATIONS.test(entry.name);
    if (noise) {
      rmSync(where);
      removed++;
    } else if (statSync(where).mode & 0o111 && !startsExecutable(where)) {
      chmodSync(where, 0o644);
    }
  }
}

prune(root, false);
console.log(`prune-modules: removed ${removed} files and directories`);
