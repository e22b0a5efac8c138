// Stages the installed form of cocos-manager and cocos-manager-cli for a
// package: the packages as `npm pack` ships them (their `files`), and their
// production dependencies at exactly the versions of the repo's
// package-lock.json, built for the pinned Node. The repo's own workspace
// tree is no use here: it links every workspace (the test kit and the
// examples too) and carries the dev dependencies. A staging whose inputs
// (the packed packages, the lockfile, these scripts, the runtime) are
// unchanged is kept: its key is in <dir>/.stage-key.
//   usage: node scripts/package/stage-app.mjs <dir, emptied unless up to date>
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const repo = fileURLToPath(new URL('../../', import.meta.url));
if (!process.argv[2]) {
  console.error('stage-app: expected the directory to stage into');
  process.exit(2);
}
const out = path.resolve(process.argv[2]);
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

// Every workspace package by name, then the ones the two programs need at run time.
const workspaces = new Map();
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(path.join(repo, group))) {
    const dir = `${group}/${name}`;
    if (existsSync(path.join(repo, dir, 'package.json'))) workspaces.set(readJson(path.join(repo, dir, 'package.json')).name, dir);
  }
}
const needed = new Set();
const need = (name) => {
  if (needed.has(name)) return;
  needed.add(name);
  for (const dep of Object.keys(readJson(path.join(repo, workspaces.get(name), 'package.json')).dependencies ?? {})) {
    if (workspaces.has(dep)) need(dep);
  }
};
need('cocos-manager');
need('cocos-manager-cli');

// What npm publishes of each (npm pack's tarballs are reproducible: fixed mtimes and order).
mkdirSync(path.dirname(out), { recursive: true });
const tarballs = mkdtempSync(path.join(path.dirname(out), '.tarballs-'));
const packed = JSON.parse(
  (
    await execa('npm', ['pack', '--json', '--loglevel=error', '--pack-destination', tarballs, ...[...needed].flatMap((n) => ['-w', workspaces.get(n)])], {
      cwd: repo,
    })
  ).stdout,
).sort((a, b) => a.name.localeCompare(b.name));
const key = createHash('sha256');
for (const { filename } of packed) key.update(readFileSync(path.join(tarballs, filename)));
for (const input of ['package-lock.json', 'scripts/package/stage-app.mjs', 'scripts/package/prune-modules.mjs', 'scripts/build-native-addons.sh']) {
  key.update(readFileSync(path.join(repo, input)));
}
key.update(process.version);
const stageKey = key.digest('hex');
const keyFile = path.join(out, '.stage-key');
if (existsSync(keyFile) && readFileSync(keyFile, 'utf8') === stageKey) {
  rmSync(tarballs, { recursive: true });
  console.log(`stage-app: ${out} is up to date`);
  process.exit(0);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out);

// Unpacked where each workspace lives.
for (const { name, filename } of packed) {
  const dir = path.join(out, workspaces.get(name));
  mkdirSync(dir, { recursive: true });
  await execa('tar', ['-xzf', path.join(tarballs, filename), '-C', dir, '--strip-components=1']);
}
rmSync(tarballs, { recursive: true });

// A root that depends on them by path: npm links them and installs their
// dependencies (never their devDependencies), keeping the lockfile's versions.
const dependencies = Object.fromEntries([...needed].sort().map((n) => [n, `file:${workspaces.get(n)}`]));
const version = readJson(path.join(repo, 'apps/manager/package.json')).version;
writeFileSync(path.join(out, 'package.json'), `${JSON.stringify({ name: 'cocos-manager-dist', version, private: true, dependencies }, null, 2)}\n`);
// The lockfile without its development-only entries: npm would otherwise keep
// those it finds under a linked package (the console's build tools).
const lock = readJson(path.join(repo, 'package-lock.json'));
lock.packages = Object.fromEntries(Object.entries(lock.packages).filter(([, entry]) => entry.dev !== true));
writeFileSync(path.join(out, 'package-lock.json'), JSON.stringify(lock));
await execa('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: out, stdio: 'inherit' });

// Exactly the tested versions: every installed package as the repo's lockfile has it, at the same place.
const locked = readJson(path.join(repo, 'package-lock.json')).packages;
const installed = readJson(path.join(out, 'node_modules/.package-lock.json')).packages;
const drift = Object.entries(installed)
  .filter(([where, entry]) => !entry.link && (locked[where]?.version !== entry.version || locked[where]?.dev === true))
  .map(([where, entry]) => `${where}: ${entry.version} (lockfile: ${locked[where]?.version ?? 'absent'}${locked[where]?.dev ? ', development only' : ''})`);
if (drift.length > 0) {
  console.error(`stage-app: installed versions differ from package-lock.json:\n  ${drift.join('\n  ')}`);
  process.exit(1);
}

await execa('bash', [path.join(repo, 'scripts/build-native-addons.sh'), out], { stdio: 'inherit' });
// Of a compiled addon, only the addon: no objects, makefiles or the build machine's paths.
const addonBuild = path.join(out, 'node_modules/cbor-extract/build');
if (existsSync(addonBuild)) {
  for (const entry of readdirSync(addonBuild)) if (entry !== 'Release') rmSync(path.join(addonBuild, entry), { recursive: true });
  for (const entry of readdirSync(path.join(addonBuild, 'Release'))) {
    if (entry !== 'extract.node') rmSync(path.join(addonBuild, 'Release', entry), { recursive: true });
  }
}
rmSync(path.join(out, 'package-lock.json'));
await execa('node', [path.join(repo, 'scripts/package/prune-modules.mjs'), out], { stdio: 'inherit' });
writeFileSync(keyFile, stageKey);
console.log(`stage-app: ${needed.size} packages and ${Object.keys(installed).length} dependencies in ${out}`);
