import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN, testManagerEnv } from './harness.js';

/**
 * What the manager trusts at start-up must be the operator's: a share root
 * below a directory a local user may write, or a tokens file that user owns,
 * stops the real binary with one line naming the path and the problem.
 */
const base = mkdtempSync(path.join(os.tmpdir(), 'cm-trust-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const start = (env: Record<string, string>) =>
  execa('node', [MAIN], { env: { ...testManagerEnv(base, '6600-6604'), ...env }, extendEnv: false, reject: false, timeout: 30_000 });

describe('start-up refuses what others control (real binary)', () => {
  it('a share root below a loose parent', async () => {
    const loose = path.join(base, 'loose');
    mkdirSync(loose);
    chmodSync(loose, 0o777);
    const result = await start({ MANAGER_QEMU_ENV_MOUNT: path.join(loose, 'env') });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      `cocos-manager: MANAGER_QEMU_ENV_MOUNT ${path.join(loose, 'env')} has a parent that others control: ${loose} is writable by group or others (mode 0777)`,
    );
  });

  it('a tokens file owned by another local user (as root)', async () => {
    if (process.getuid?.() !== 0) return; // only root can give a file away
    const file = path.join(base, 'tokens');
    writeFileSync(file, `admin ops ${'t'.repeat(40)}\n`, { mode: 0o600 });
    chownSync(file, 4242, 4242);
    const result = await start({ MANAGER_AUTH_TOKENS_FILE: file });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`cocos-manager: MANAGER_AUTH_TOKENS_FILE="${file}": the file is owned by uid 4242; expected this manager's uid 0 or root`);
  });
});
