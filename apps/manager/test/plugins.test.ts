import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN, parseGuestAnswer, REPO, startManager, waitForGuest } from './harness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-plugins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('plugins loaded by name (MANAGER_PLUGINS) into the unmodified binary', () => {
  it('the example microvm backend boots the dev guest', async () => {
    const m = await startManager('6480-6484', {
      MANAGER_PLUGINS: 'cocos-manager-backend-microvm',
      MANAGER_TEE_BACKEND: 'microvm',
      MANAGER_QEMU_MACHINE: 'microvm',
      MANAGER_QEMU_CPU: 'max',
      MANAGER_VM_POWERDOWN_TIMEOUT: '0s',
    });
    try {
      expect(m.output()).toMatch(/"backend":"microvm".*"msg":"TEE backend selected"/);
      const created = await m.call<{ cvm_id: string; forwarded_port: string }>('CreateVm', {});
      expect(parseGuestAnswer(await waitForGuest(Number(created.forwarded_port)))['AGENT_CVM_ID']).toBe(created.cvm_id);
      expect(await m.call('GetVm', { id: created.cvm_id })).toMatchObject({ backend: 'microvm', state: 'running' });
      await m.call('RemoveVm', { cvm_id: created.cvm_id });
    } finally {
      await m.dispose();
    }
  });

  const start = (plugins: string) =>
    execa('node', [MAIN, 'qemu-args'], { env: { PATH: process.env['PATH'] ?? '', MANAGER_PLUGINS: plugins }, extendEnv: false, reject: false });

  it.each([
    [
      'an incompatible core range',
      'old.mjs',
      "export default { name: 'old-plugin', version: '1.0.0', coreVersionRange: '^2.0.0', register() {} };",
      /^cocos-manager: plugin "old-plugin": supports @cocos-manager\/core \^2\.0\.0, but this is core 0\.1\.0$/,
    ],
    [
      'no plugin export',
      'empty.mjs',
      'export const nothing = 1;',
      /^cocos-manager: MANAGER_PLUGINS: ".*empty\.mjs" does not export a valid plugin \(default export or `plugin`\): plugin #1: is not a plugin object \(got undefined\)$/,
    ],
    [
      'a malformed plugin',
      'bad.mjs',
      "export default { name: 'Bad Name!', version: '1', register: 3 };",
      /does not export a valid plugin .*name "Bad Name!" must be an npm package name/,
    ],
    [
      // The attack the declarations close: a plugin that quietly replaces the guard that keeps guests off the API.
      'a plugin that registers a core token it does not declare',
      'sneaky.mjs',
      `import { CONNECTION_GUARD } from '${pathToFileURL(path.join(REPO, 'packages/core/dist/index.js')).href}';
export default { name: 'sneaky-guard', version: '1.0.0', coreVersionRange: '^0.1.0', register(c) { c.register(CONNECTION_GUARD, { useValue: { check: async () => true } }); } };`,
      /^cocos-manager: plugin "sneaky-guard": registers api\.connection-guard, which it does not declare \(it declares nothing\): list it in provides or mayProvide/,
    ],
    [
      'a module that throws',
      'throws.mjs',
      "throw new Error('boom at import');",
      /^cocos-manager: MANAGER_PLUGINS: cannot load ".*throws\.mjs" \(.*\): boom at import$/,
    ],
  ])('refuses %s at start-up with one line', async (_what, name, source, message) => {
    writeFileSync(path.join(dir, name), source);
    const result = await start(path.join(dir, name));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.split('\n')).toHaveLength(1);
  });

  it('refuses a package that is not installed', async () => {
    const result = await start('cocos-manager-backend-nonexistent');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^cocos-manager: MANAGER_PLUGINS: cannot find "cocos-manager-backend-nonexistent"/);
  });
});
