import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyCreateVmRequest } from '@cocos-manager/core';
import { type Manager } from '@cocos-manager/core/internal';
import { FakeLauncher } from '../src/fake-launcher.js';
import { FaultyStateFiles } from '../src/faulty-state-files.js';
import { startFakeManager, testDirs, type TestDirs } from './fake-manager.js';

/**
 * A restarted manager does not rewrite the record of a VM it re-adopts as its
 * file already says it (a thousand VMs were two thousand fsyncs and most of a
 * restart, issue 24); a record that differs from its file, and every later
 * change, is written as before.
 */
let dirs: TestDirs;
let manager: Manager | null = null;
afterEach(async () => {
  await manager?.stop({ removeVms: true });
  manager = null;
  dirs?.remove();
});

describe('re-adoption writes only the records that changed', () => {
  it('leaves unchanged records alone, rewrites one that differs, and writes the next change', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const first = await startFakeManager(dirs, { launcher });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await first.service.create(emptyCreateVmRequest())).id);
    await first.stop({ removeVms: false });
    const file = (id: string) => path.join(dirs.state, `${id}.json`);
    const [same, older, later] = ids as [string, string, string];
    // A record from before VM devices existed: valid, but not what this manager would write.
    const old = JSON.parse(readFileSync(file(older), 'utf8')) as Record<string, unknown>;
    delete old['devices'];
    writeFileSync(file(older), `${JSON.stringify(old, null, 2)}\n`);
    const before = new Map(ids.map((id) => [id, readFileSync(file(id), 'utf8')]));

    const files = new FaultyStateFiles();
    manager = await startFakeManager(dirs, { launcher, stateFiles: files });
    expect(manager.service.list().map((vm) => [vm.id, vm.state, vm.adopted])).toEqual(expect.arrayContaining(ids.map((id) => [id, 'running', true])));
    // One write in all — the older record's, once, as 'running': never one saying 'provisioning' (a crash then would
    // have had the next manager stop a VM its clients know, as a create that never finished).
    expect(files.renamed).toBe(1);
    expect(readFileSync(file(same), 'utf8')).toBe(before.get(same));
    expect(readFileSync(file(later), 'utf8')).toBe(before.get(later));
    expect(JSON.parse(readFileSync(file(older), 'utf8'))).toMatchObject({ id: older, state: 'running', devices: [] });

    // A change after re-adoption is written: the QEMU of `later` exits, its VM fails.
    const pid = manager.service.list().find((vm) => vm.id === later)?.pid as number;
    launcher.byPid(pid).exit({ code: 1 });
    await expect.poll(() => (JSON.parse(readFileSync(file(later), 'utf8')) as { state: string }).state).toBe('failed');
    expect(files.renamed).toBeGreaterThanOrEqual(2);
  });
});
