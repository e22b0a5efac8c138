import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_GUEST, REPO } from './harness.js';

/**
 * The README promises: after one `bash scripts/setup.sh` on a fresh clone,
 * `npx cocos-manager` and `npx cocos-manager-cli` work. npm ci links bins
 * before anything is built, so this is checked on a real clone of the
 * committed tree, set up exactly once.
 */
/** The machine's PATH, without what npm put first for this run (the repo's node_modules/.bin, npm's own bins): a fresh shell's. */
const machinePath = (process.env['PATH'] ?? '')
  .split(path.delimiter)
  .filter((dir) => !dir.includes(`${path.sep}node_modules${path.sep}`))
  .join(path.delimiter);

describe('a fresh clone after one scripts/setup.sh', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-fresh-clone-'));
  const clone = path.join(dir, 'cocos-manager');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the README commands npx cocos-manager and npx cocos-manager-cli', { timeout: 900_000 }, async () => {
    await execa('git', ['clone', '--quiet', '--no-local', REPO, clone]);
    // The dev guest is built from the same recipe: give setup the built one (its cache), not a second kernel download.
    if (existsSync(DEV_GUEST)) cpSync(DEV_GUEST, path.join(clone, 'build/dev-guest'), { recursive: true });
    // Same for the build: Nx's cache of this checkout (same sources, same hashes) spares a second compile of every package.
    const setup = await execa('bash', ['scripts/setup.sh'], {
      cwd: clone,
      all: true,
      reject: false,
      env: { CI: '1', NX_CACHE_DIRECTORY: path.join(REPO, '.nx/cache'), PATH: machinePath },
    });
    expect(setup.exitCode, setup.all).toBe(0);

    // Whatever Node the machine has (Node 20 here), the clone runs on the Node 24 it pins.
    const cloneNode = await execa('npm', ['exec', '--', 'node', '--version'], { cwd: clone, env: { PATH: machinePath } });
    expect(cloneNode.stdout.trim()).toMatch(/^v24\.\d+\.\d+$/);
    expect(setup.all).toContain(`setup: native addons for Node ${cloneNode.stdout.trim()}`);

    const version = await execa('npx', ['--no-install', 'cocos-manager', '--version'], { cwd: clone, reject: false, all: true, env: { PATH: machinePath } });
    expect(version.exitCode, version.all).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await execa('npx', ['--no-install', 'cocos-manager-cli', '--help'], { cwd: clone, reject: false, all: true, env: { PATH: machinePath } });
    expect(help.exitCode, help.all).toBe(0);
    expect(help.stdout).toContain('Usage: cocos-manager-cli');
  });
});
