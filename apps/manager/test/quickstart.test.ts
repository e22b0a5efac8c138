import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { MAIN, pidsWithArg, REPO } from './harness.js';

describe('README', () => {
  it('quick start (after setup) boots the dev guest, prints its answer, and cleans up', async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), 'cm-quickstart-'));
    try {
      const result = await execa('bash', [path.join(REPO, 'scripts/quickstart.sh'), '--no-setup', '--exit'], {
        env: { MANAGER_RUN_DIR: runDir, MANAGER_STATE_DIR: path.join(runDir, '.state'), MANAGER_GRPC_PORT: '7191', MANAGER_QEMU_HOST_FWD_RANGE: '6330-6339' },
        reject: false,
        all: true,
      });
      expect(result.exitCode, result.all).toBe(0);
      expect(result.all).toMatch(/quickstart: created VM [0-9a-f-]{36}, forwarded port 633\d/);
      expect(result.all).toMatch(/quickstart: the guest answered on port 633\d after/);
      expect(result.all).toMatch(/AGENT_CVM_ID=[0-9a-f-]{36}/);
      expect(result.all).toMatch(/quickstart: removed VM/);
      expect(pidsWithArg(runDir)).toEqual([]);
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
  });

  it('docs/configuration.md is the reference the binary generates', async () => {
    const generated = await execa('node', [MAIN, 'config', '--reference'], {
      env: { PATH: process.env['PATH'] ?? '', MANAGER_RUN_DIR: '<MANAGER_RUN_DIR>' },
      extendEnv: false,
    });
    const doc = readFileSync(path.join(REPO, 'docs/configuration.md'), 'utf8');
    expect(doc, 'regenerate with: npm run docs').toContain(generated.stdout.trim());
  });

  it('the README gives exactly the commands CI and the quick start use', () => {
    const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const ci = readFileSync(path.join(REPO, '.ci/run'), 'utf8');
    expect(readme).toContain('bash scripts/quickstart.sh');
    expect(readme).toContain('bash scripts/test.sh');
    expect(ci).toContain('bash scripts/test.sh');
  });
});
