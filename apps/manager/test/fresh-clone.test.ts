import { execSync } from 'node:child_process';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO } from './harness.js';

/**
 * The README promises: after one `bash scripts/setup.sh` on a fresh clone,
 * `npx cocos-manager` and `npx cocos-manager-cli` work, whatever Node the
 * machine has. CI is that situation: it clones main afresh and its test
 * command (scripts/test.sh) runs setup once before these tests — so they run
 * in this checkout, from a shell with the machine's PATH, rather than setting
 * up a second clone (two minutes of CI for what CI's own run already is).
 */
/** The machine's PATH, without what npm put first for this run (the repo's node_modules/.bin, npm's own bins): a fresh shell's. */
const machinePath = (process.env['PATH'] ?? '')
  .split(path.delimiter)
  .filter((dir) => !dir.includes(`${path.sep}node_modules${path.sep}`))
  .join(path.delimiter);
const inShell = (command: string, ...args: string[]) =>
  execa(command, args, { cwd: REPO, reject: false, all: true, env: { PATH: machinePath }, extendEnv: false });

describe('the checkout after scripts/setup.sh, from a shell with the machine PATH', () => {
  it('runs the README commands npx cocos-manager and npx cocos-manager-cli on the pinned Node 24', async () => {
    // Whatever Node the machine has (Node 20 here), the checkout runs on the Node 24 it pins.
    const node = await inShell('npm', 'exec', '--', 'node', '--version');
    expect(node.stdout.trim()).toMatch(/^v24\.\d+\.\d+$/);
    // npm ci links the bins before anything is built: the committed shims, not the build, are what npm linked.
    for (const bin of ['cocos-manager', 'cocos-manager-cli']) {
      const tracked = execSync(`git ls-files -- "$(realpath --relative-to=. node_modules/.bin/${bin})"`, { cwd: REPO, encoding: 'utf8' }).trim();
      expect(tracked, `node_modules/.bin/${bin} links to a committed file`).not.toBe('');
    }

    const version = await inShell('npx', '--no-install', 'cocos-manager', '--version');
    expect(version.exitCode, version.all).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await inShell('npx', '--no-install', 'cocos-manager-cli', '--help');
    expect(help.exitCode, help.all).toBe(0);
    expect(help.stdout).toContain('Usage: cocos-manager-cli');
  });
});
