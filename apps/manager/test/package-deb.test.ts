import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, pidsWithArg, processGone, until, waitForGuest } from './harness.js';
import {
  buildDeb,
  cocosPaths,
  debField,
  debianRoot,
  environmentFile,
  holdMachineLock,
  packageNames,
  rebuildWithVersion,
  startPackaged,
  SYSTEM_PATH,
  VERSION,
  type PackagedManager,
} from './packaging.js';

/** The same tree built with a lower version: what an upgrade replaces. */
const PREVIOUS = `${VERSION}~prev`;
const ENV_FILE = '/etc/cocos/cocos-manager.env';
const BIN = '/usr/bin/cocos-manager';
const CLI = '/usr/bin/cocos-manager-cli';
const UNIT = '/lib/systemd/system/cocos-manager.service';
/** Where a package of ours may leave files; purge must leave none there. */
const ROOTS = ['/etc', '/lib/systemd', '/usr/bin', '/usr/lib', '/usr/share/doc', '/usr/share/lintian', '/var/lib', '/run/cocos-manager'];
/** Marks a package this test installed (a crashed run's leftover may be purged; a real install may not). */
const MARKER = '/var/tmp/cocos-manager-package-test.installed';

const dpkg = (...args: string[]) => execa('dpkg', args, { reject: false, all: true, env: { DEBIAN_FRONTEND: 'noninteractive' } });
const installedVersion = async () => (await execa('dpkg-query', ['-W', '-f=${Version}', 'cocos-manager'], { reject: false })).stdout;

describe('the Debian package', () => {
  let current: string;
  let previous: string;
  let lintian: Promise<{ exitCode: number | undefined; output: string }>;
  const managers: PackagedManager[] = [];
  let releaseMachine: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    current = await buildDeb();
    // Lintian reads every file (a minute or two): it runs while the other tests do.
    lintian = execa('lintian', ['--fail-on', 'error', current], { reject: false, all: true }).then((r) => ({ exitCode: r.exitCode, output: String(r.all) }));
    previous = await rebuildWithVersion(current, PREVIOUS);
  }, 900_000);

  afterAll(async () => {
    for (const m of managers) await m.stop();
    for (const pid of pidsWithArg('/run/cocos-manager/')) process.kill(pid, 'SIGKILL');
    if (existsSync(MARKER)) {
      await dpkg('--purge', 'cocos-manager');
      rmSync('/var/lib/cocos-manager', { recursive: true, force: true });
      rmSync('/run/cocos-manager', { recursive: true, force: true });
      rmSync(MARKER, { force: true });
    }
    await releaseMachine?.();
    await lintian;
  }, 120_000);

  it('carries its runtime, the unit, the conffile and the QEMU dependencies', async () => {
    const listing = (await execa('dpkg-deb', ['--contents', current])).stdout;
    for (const file of [BIN, CLI, UNIT, '/usr/lib/cocos-manager/node/bin/node', '/usr/share/doc/cocos-manager/copyright']) {
      expect(listing).toContain(` .${file}\n`);
    }
    expect(listing).toMatch(/^-rw------- root\/root .* \.\/etc\/cocos\/cocos-manager\.env$/m);
    expect(listing).not.toContain('node_modules/.bin/');
    expect((await execa('dpkg-deb', ['--info', current, 'conffiles'])).stdout.trim()).toBe(ENV_FILE);
    expect(packageNames(await debField(current, 'Depends'))).toEqual(expect.arrayContaining(['libc6', 'libstdc++6', 'qemu-system-x86', 'qemu-utils']));
    expect(packageNames(await debField(current, 'Recommends'))).toContain('ovmf');
    expect(await debField(previous, 'Version')).toBe(PREVIOUS);
    expect((await execa('dpkg', ['--compare-versions', PREVIOUS, 'lt', VERSION], { reject: false })).exitCode).toBe(0);
  });

  it('installs with dpkg -i into a clean Debian 12 root, where cocos-manager config --reference runs with no Node on PATH', async () => {
    const needs = [...packageNames(await debField(current, 'Depends')), ...packageNames(await debField(current, 'Recommends'))];
    const root = mkdtempSync('/var/tmp/cm-deb-root-');
    try {
      // cp -a: the root has device nodes (/dev/null…), which fs.cpSync does not copy.
      await execa('cp', ['-a', `${await debianRoot(needs)}/.`, root]);
      cpSync(current, path.join(root, 'tmp/cocos-manager.deb'));
      const inRoot = (...argv: string[]) => execa('chroot', [root, 'env', '-i', `PATH=${SYSTEM_PATH}`, ...argv], { reject: false, all: true });
      const install = await inRoot('dpkg', '-i', '/tmp/cocos-manager.deb');
      expect(install.exitCode, install.all).toBe(0);
      expect((await inRoot('sh', '-c', 'command -v node nodejs')).exitCode).not.toBe(0);
      expect((await inRoot('dpkg-query', '-W', 'nodejs')).exitCode).not.toBe(0);
      const reference = await inRoot(BIN, 'config', '--reference');
      expect(reference.exitCode, reference.all).toBe(0);
      // The package's manager is this tree's: the same reference as the checkout's build.
      const checkout = await execa('node', [MAIN, 'config', '--reference'], { env: { PATH: process.env['PATH'] ?? '' }, extendEnv: false });
      expect(reference.stdout).toBe(checkout.stdout);
      expect((await inRoot(CLI, '--version')).stdout).toBe(VERSION);
      // Enabled the debhelper way, with no systemd running in the root.
      expect(readlinkSync(path.join(root, 'etc/systemd/system/multi-user.target.wants/cocos-manager.service'))).toBe(UNIT);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it(
    'on this machine: the packaged manager boots the dev guest for the packaged CLI; an upgrade keeps the edited env file and re-adopts the VM; remove then purge leave nothing',
    { timeout: 600_000 },
    async () => {
      releaseMachine = await holdMachineLock('package-tests');
      expect(existsSync('/run/systemd/system'), 'systemd runs here: the postinst would start the unit itself').toBe(false);
      if ((await installedVersion()) !== '') {
        expect(existsSync(MARKER), 'cocos-manager is installed on this machine, not by this test: purge it first').toBe(true);
        await dpkg('--purge', 'cocos-manager');
      }
      rmSync('/var/lib/cocos-manager', { recursive: true, force: true });
      rmSync('/run/cocos-manager', { recursive: true, force: true });
      const before = cocosPaths(ROOTS);

      writeFileSync(MARKER, `${PREVIOUS}\n`);
      const first = await dpkg('-i', previous);
      expect(first.exitCode, first.all).toBe(0);
      expect(await installedVersion()).toBe(PREVIOUS);
      expect(readlinkSync('/etc/systemd/system/multi-user.target.wants/cocos-manager.service')).toBe(UNIT);
      const verify = await execa('systemd-analyze', ['verify', UNIT], { reject: false });
      expect(verify.exitCode, verify.stderr).toBe(0);

      // An admin's edit of the conffile, which the upgrade must keep.
      const instance = `package-test-${process.pid}`;
      const edited = `${readFileSync(ENV_FILE, 'utf8')}\nMANAGER_INSTANCE_ID=${instance}\nMANAGER_QEMU_HOST_FWD_RANGE=7210-7214\n`;
      writeFileSync(ENV_FILE, edited);
      const cli = (port: number, ...args: string[]) =>
        execa(CLI, ['--server-url', `127.0.0.1:${port}`, '--json', ...args], { env: { PATH: SYSTEM_PATH }, extendEnv: false, reject: false, all: true });

      const older = await startPackaged([BIN], environmentFile(ENV_FILE));
      managers.push(older);
      expect(older.output()).toContain(`"instance":"${instance}"`);
      const created = await cli(older.grpcPort, 'create-vm', '--wait', '--wait-timeout', '240');
      expect(created.exitCode, created.all).toBe(0);
      const vm = JSON.parse(created.stdout) as { cvm_id: string; forwarded_port: string };
      expect(Number(vm.forwarded_port)).toBeGreaterThanOrEqual(7210);
      expect(await waitForGuest(Number(vm.forwarded_port))).toContain(`AGENT_CVM_ID=${vm.cvm_id}`);
      const [qemu] = pidsWithArg(`/run/cocos-manager/${vm.cvm_id}/`);
      expect(qemu).toBeGreaterThan(0);
      expect(await older.stop()).toBe(0);
      expect(processGone(qemu!)).toBe(false);

      const upgrade = await dpkg('-i', current);
      expect(upgrade.exitCode, upgrade.all).toBe(0);
      expect(await installedVersion()).toBe(VERSION);
      expect(readFileSync(ENV_FILE, 'utf8')).toBe(edited);
      expect(readdirSync('/etc/cocos')).toEqual(['cocos-manager.env']);

      const newer = await startPackaged([BIN], environmentFile(ENV_FILE));
      managers.push(newer);
      const adopted = await cli(newer.grpcPort, 'vm', vm.cvm_id);
      expect(adopted.exitCode, adopted.all).toBe(0);
      expect(JSON.parse(adopted.stdout)).toMatchObject({ id: vm.cvm_id, state: 'running', pid: qemu, adopted: true });
      expect(await waitForGuest(Number(vm.forwarded_port))).toContain(`AGENT_CVM_ID=${vm.cvm_id}`);
      const removed = await cli(newer.grpcPort, 'remove-vm', vm.cvm_id);
      expect(removed.exitCode, removed.all).toBe(0);
      await until(() => processGone(qemu!), 60_000, `QEMU ${qemu} to exit`);
      expect(await newer.stop()).toBe(0);

      const remove = await dpkg('-r', 'cocos-manager');
      expect(remove.exitCode, remove.all).toBe(0);
      expect(existsSync(BIN)).toBe(false);
      expect(existsSync(ENV_FILE), 'remove keeps the configuration').toBe(true);
      const purge = await dpkg('-P', 'cocos-manager');
      expect(purge.exitCode, purge.all).toBe(0);
      rmSync(MARKER);
      expect(await installedVersion()).toBe('');
      expect(cocosPaths(ROOTS)).toEqual(before);
    },
  );

  it('lintian reports no error', { timeout: 600_000 }, async () => {
    const result = await lintian;
    expect(result.output.split('\n').filter((line) => line.startsWith('E: '))).toEqual([]);
    expect(result.exitCode, result.output).toBe(0);
  });
});
