import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyCreateVmRequest, ErrorCode } from '@cocos-manager/core';
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

/** A manager over the fake launcher with the disk-like boot and a backend whose cleanups are counted. */
async function start(launcher: FakeLauncher, boot: DiskLikeBoot, options: { backendName?: string; backendFails?: boolean; env?: Record<string, string> } = {}) {
  const backendCleanups: string[] = [];
  const { logger, lines } = capturingLogger();
  const m = await startFakeManager(dirs, {
    launcher,
    logger,
    env: options.env ?? {},
    plugins: [bootPlugin(boot)],
    backend: {
      ...(options.backendName ? { name: options.backendName } : {}),
      cleanup: async (vm) => {
        backendCleanups.push(vm.id);
        if (options.backendFails) throw new Error('backend cleanup failed (scripted)');
      },
    },
  });
  managers.push(m);
  return { m, backendCleanups, lines };
}

const failuresLogged = (lines: Array<Record<string, unknown>>) =>
  lines.filter((l) => /^teardown: \w+ cleanup failed/.test(String(l['msg']))).map((l) => l['step']);

describe('one teardown for every path that ends a VM (fake launcher)', () => {
  it('QEMU exit: a failing boot cleanup does not skip the backend cleanup, the files or the port; each failure logged', async () => {
    dirs = testDirs();
    const boot = new DiskLikeBoot(path.join(dirs.dir, 'disks'));
    const launcher = new FakeLauncher();
    const { m, backendCleanups, lines } = await start(launcher, boot);
    const vm = await m.service.create(emptyCreateVmRequest());
    boot.failCleanup = true;
    launcher.processes[0]?.exit({ signal: 'SIGKILL' });
    await expect.poll(() => m.service.portUsage().inUse, { timeout: 5000 }).toBe(0);
    expect(boot.cleanups).toEqual([vm.id]);
    expect(backendCleanups).toEqual([vm.id]);
    expect((await dirs.leftovers()).run).toEqual([]);
    expect(failuresLogged(lines)).toEqual(['boot']);
    expect(lines.find((l) => l['msg'] === 'VM torn down, with failures')).toMatchObject({
      vm: vm.id,
      why: 'QEMU exited',
      failed: ['boot'],
      done: ['devices', 'backend', 'files', 'port'],
    });
    // RemoveVm afterwards does not tear down again.
    await m.service.remove(vm.id);
    expect(boot.cleanups).toEqual([vm.id]);
    expect(backendCleanups).toEqual([vm.id]);
  });

  it('create rollback: boot and backend cleanups both failing still leave no files, port or record', async () => {
    dirs = testDirs();
    const boot = new DiskLikeBoot(path.join(dirs.dir, 'disks'));
    const launcher = new FakeLauncher().script({ qmp: 'silent' });
    const { m, backendCleanups, lines } = await start(launcher, boot, { backendFails: true, env: { MANAGER_VM_START_TIMEOUT: '200ms' } });
    boot.failCleanup = true;
    await expect(m.service.create(emptyCreateVmRequest())).rejects.toMatchObject({ message: expect.stringContaining('did not answer on its QMP socket') });
    const id = boot.cleanups[0];
    expect(backendCleanups).toEqual([id]);
    expect(await dirs.leftovers()).toEqual({ run: [], state: [] });
    expect(m.service.portUsage().inUse).toBe(0);
    expect(launcher.running).toEqual([]);
    expect(failuresLogged(lines).sort()).toEqual(['backend', 'boot']);
  });

  it('removal: the disk, the backend files, the directory and the port, once', async () => {
    dirs = testDirs();
    const boot = new DiskLikeBoot(path.join(dirs.dir, 'disks'));
    const launcher = new FakeLauncher();
    const { m, backendCleanups } = await start(launcher, boot);
    const vm = await m.service.create(emptyCreateVmRequest());
    expect(existsSync(boot.disk(vm.id))).toBe(true);
    await Promise.all([m.service.remove(vm.id), m.service.remove(vm.id)]);
    expect(existsSync(boot.disk(vm.id))).toBe(false);
    expect([boot.cleanups, backendCleanups]).toEqual([[vm.id], [vm.id]]);
    expect(await dirs.leftovers()).toEqual({ run: [], state: [] });
  });
});

describe('recovery tears down what a VM that died while no manager ran held (fake launcher)', () => {
  it('QEMU died while the manager was down: its disk and backend files go at restart, the VM shows failed; RemoveVm does not clean again', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const firstBoot = new DiskLikeBoot(path.join(dirs.dir, 'disks'));
    const first = await start(launcher, firstBoot);
    const vm = await first.m.service.create(emptyCreateVmRequest());
    await first.m.stop({ removeVms: false });
    managers.splice(0);
    launcher.processes[0]?.exit({ signal: 'SIGKILL' });

    const boot = new DiskLikeBoot(path.join(dirs.dir, 'disks'));
    const second = await start(launcher, boot);
    expect(existsSync(boot.disk(vm.id))).toBe(false);
    expect([boot.cleanups, second.backendCleanups]).toEqual([[vm.id], [vm.id]]);
    expect(second.m.service.list()).toMatchObject([
      { id: vm.id, state: 'failed', exit: { reason: expect.stringMatching(/^QEMU ended while the manager was not running/) } },
    ]);
    expect((await dirs.leftovers()).run).toEqual([]);
    await second.m.service.remove(vm.id);
    expect([boot.cleanups, second.backendCleanups]).toEqual([[vm.id], [vm.id]]);
  });

  it('its pid belongs to another process now: the process is left alone, the VM torn down (disk too) and forgotten', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const first = await start(launcher, new DiskLikeBoot(path.join(dirs.dir, 'disks')));
    const vm = await first.m.service.create(emptyCreateVmRequest());
    await first.m.stop({ removeVms: false });
    managers.splice(0);
    const pid = launcher.processes[0]!.pid;
    launcher.reusePid(pid);

    const boot = new DiskLikeBoot(path.join(dirs.dir, 'disks'));
    const second = await start(launcher, boot);
    expect(second.m.service.list()).toEqual([]);
    expect(existsSync(boot.disk(vm.id))).toBe(false);
    expect([boot.cleanups, second.backendCleanups]).toEqual([[vm.id], [vm.id]]);
    expect(await dirs.leftovers()).toEqual({ run: [], state: [] });
    expect(launcher.byPid(pid).signals).toEqual([]);
  });

  it.each([
    ['still runs', true],
    ['is gone', false],
  ])('a VM recorded with a backend that is not loaded (its QEMU %s) is refused, shown failed with why, and left as it was', async (_what, alive) => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const first = await start(launcher, new DiskLikeBoot(path.join(dirs.dir, 'disks')));
    const vm = await first.m.service.create(emptyCreateVmRequest());
    await first.m.stop({ removeVms: false });
    managers.splice(0);
    const qemu = launcher.processes[0]!;
    if (!alive) qemu.exit({ signal: 'SIGKILL' });

    const boot = new DiskLikeBoot(path.join(dirs.dir, 'disks'));
    const second = await start(launcher, boot, { backendName: 'other' });
    const [shown] = second.m.service.list();
    expect(shown).toMatchObject({ id: vm.id, state: 'failed', adopted: false, pid: alive ? qemu.pid : null, backend: 'inert' });
    expect(shown?.exit?.reason).toBe(
      `not re-adopted: recorded with backend "inert", which this manager does not load; ${alive ? `its QEMU (pid ${qemu.pid}) still runs and was left alone` : 'its QEMU is not running'}; its record and files are kept for a manager that loads it`,
    );
    expect(await second.m.service.get(vm.id)).toEqual(shown);
    expect(second.lines.some((l) => String(l['msg']).startsWith('refusing to re-adopt a VM: not re-adopted: recorded with backend "inert"'))).toBe(true);
    // Nothing was done to it: no signal, no cleanup; its record, files and disk stay, even through a reconcile.
    expect(qemu.signals).toEqual([]);
    expect([boot.cleanups, second.backendCleanups]).toEqual([[], []]);
    expect(await second.m.service.reconcile()).toEqual({ directories: [], stateFiles: [], ports: [] });
    expect(await dirs.leftovers()).toEqual({ run: [vm.id], state: [`${vm.id}.json`] });
    expect(existsSync(boot.disk(vm.id))).toBe(true);
    expect(second.m.service.portUsage().inUse).toBe(alive ? 1 : 0);
    await expect(second.m.service.remove(vm.id)).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: `VM ${vm.id} was ${shown?.exit?.reason}`,
    });
    expect(() => second.m.service.cvmInfo(vm.id)).toThrow(/was not re-adopted: recorded with backend "inert"/);
    // A new VM never gets the port of a refused VM whose QEMU still runs.
    const created = await second.m.service.create(emptyCreateVmRequest());
    if (alive) expect(created.forwardedPort).not.toBe(shown?.forwardedPort);
    await second.m.service.remove(created.id);
    expect(readdirSync(dirs.run)).toEqual([vm.id]);
  });
});
