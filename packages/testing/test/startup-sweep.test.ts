import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, emptyCreateVmRequest, TRANSPORT, type Transport } from '@cocos-manager/core';
import { type Manager } from '@cocos-manager/core/internal';
import { FakeLauncher } from '../src/fake-launcher.js';
import { bootPlugin, DiskLikeBoot } from './disk-like-boot.js';
import { capturingLogger, startFakeManager, testDirs, type TestDirs } from './fake-manager.js';

let dirs: TestDirs;
const managers: Manager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0).reverse()) await m.stop({ removeVms: true }).catch(() => undefined);
  dirs?.remove();
});

/** A transport that records what is on disk at the moment the manager starts serving. */
function servingProbe(seen: (at: 'serving') => void) {
  return definePlugin({
    name: 'serving-probe',
    version: '0.0.0',
    coreVersionRange: '^0.1.0',
    provides: [TRANSPORT],
    register(container) {
      const transport: Transport = { name: 'probe', start: async () => seen('serving'), stop: async () => undefined, address: () => 'nowhere' };
      container.register(TRANSPORT, { useValue: transport });
    },
  });
}

/** A VM directory as a create leaves it before its record exists: the env file and the certificates. */
function plantVmDir(dir: string) {
  mkdirSync(path.join(dir, 'env'), { recursive: true, mode: 0o700 });
  mkdirSync(path.join(dir, 'certs'), { mode: 0o700 });
  writeFileSync(path.join(dir, 'env', 'environment'), 'AWS_SECRET_ACCESS_KEY=secret\n', { mode: 0o600 });
  writeFileSync(path.join(dir, 'certs', 'key.pem'), 'private key', { mode: 0o600 });
}

describe('start-up removes per-VM directories no saved VM owns, before serving (fake launcher)', () => {
  it('orphaned run and share directories and their disks go before the first transport starts; saved VMs and other entries stay', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const shares = path.join(dirs.dir, 'shares');
    const env = { MANAGER_QEMU_ENV_MOUNT: shares };
    const firstBoot = new DiskLikeBoot(path.join(dirs.dir, 'disks'));
    const first = await startFakeManager(dirs, { launcher, env, plugins: [bootPlugin(firstBoot)] });
    const kept = await first.service.create(emptyCreateVmRequest());
    await first.stop({ removeVms: false });

    // What managers killed in the middle of creates left: a run directory (and its disk), a share alone.
    const orphan = randomUUID();
    const shareOnly = randomUUID();
    plantVmDir(path.join(dirs.run, orphan));
    writeFileSync(firstBoot.disk(orphan), 'disk');
    mkdirSync(path.join(shares, shareOnly), { mode: 0o700 });
    mkdirSync(path.join(dirs.run, 'not-a-vm'));
    writeFileSync(path.join(dirs.state, `${kept.id}.json.0a1b2c3d.tmp`), '');

    const boot = new DiskLikeBoot(path.join(dirs.dir, 'disks'));
    let atServing: { run: string[]; shares: string[]; disk: boolean; state: string[] } | null = null;
    const { logger, lines } = capturingLogger();
    const second = await startFakeManager(dirs, {
      launcher,
      env,
      logger,
      plugins: [
        bootPlugin(boot),
        servingProbe(() => {
          atServing = {
            run: readdirSync(dirs.run).sort(),
            shares: readdirSync(shares).sort(),
            disk: existsSync(boot.disk(orphan)),
            state: readdirSync(dirs.state).sort(),
          };
        }),
      ],
    });
    managers.push(second);
    expect(atServing).toEqual({
      run: [kept.id, 'not-a-vm'].sort(),
      shares: [kept.id],
      disk: false,
      state: [`${kept.id}.json`, 'manager.lock'].sort(),
    });
    expect(boot.cleanups.sort()).toEqual([orphan, shareOnly].sort());
    expect(lines.find((l) => l['msg'] === 'removed per-VM directories no saved VM owns')?.['directories']).toEqual(expect.arrayContaining([orphan, shareOnly]));
    expect(second.service.list()).toMatchObject([{ id: kept.id, state: 'running', adopted: true }]);
    expect(existsSync(boot.disk(kept.id))).toBe(true);
  });
});
