import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DEV_GUEST, dirEntries, MAIN, pidsWithArg, startManager, testManagerEnv, until, type RunningManager, type WireVm } from './harness.js';

const managers: RunningManager[] = [];
async function start(range: string, env: Record<string, string> = {}, base?: string) {
  const m = await startManager(range, { MANAGER_VM_POWERDOWN_TIMEOUT: '0s', ...env }, base);
  managers.push(m);
  return m;
}
afterEach(async () => {
  for (const m of managers.splice(0).reverse()) await m.dispose();
});
const fixtures = mkdtempSync(path.join(os.tmpdir(), 'cm-hardening-'));
afterAll(() => rmSync(fixtures, { recursive: true, force: true }));

describe('one manager per state directory (real binary)', () => {
  it("a second manager on the same directories stops at start with one line naming the first one's pid; the first keeps working", async () => {
    const first = await start('6610-6614');
    const second = await execa('node', [MAIN], { env: testManagerEnv(first.base, '6610-6614'), extendEnv: false, reject: false, timeout: 30_000 });
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toBe(
      `cocos-manager: another manager (pid ${first.pid}) already uses the state directory ${first.stateDir}; stop it first or give this one its own MANAGER_STATE_DIR`,
    );
    expect(await first.call('ListVms', {})).toEqual({ vms: [], next_page_token: '' });
    expect(readFileSync(path.join(first.stateDir, 'manager.lock'), 'utf8')).toMatch(new RegExp(`^${first.pid} \\d+\\n$`));
    // A clean stop releases the lock; a kill -9 leaves a stale one the next manager takes over.
    await first.kill9();
    const third = await start('6610-6614', {}, first.base);
    expect(readFileSync(path.join(third.stateDir, 'manager.lock'), 'utf8')).toMatch(new RegExp(`^${third.pid} \\d+\\n$`));
  });
});

describe('the crash window (real QEMU, real binary)', () => {
  it('a manager killed between spawning QEMU and recording its pid leaves no orphan once the next one starts', async () => {
    const first = await start('6615-6619', { MANAGER_TEST_HOOKS: '1', MANAGER_TEST_CRASH_AFTER: 'spawn' });
    // The create never answers: the manager dies inside it (SIGKILL to itself).
    await expect(first.call('CreateVm', {})).rejects.toMatchObject({ code: expect.any(Number) });
    const died = await first.process;
    expect(died.signal).toBe('SIGKILL');
    // Inside the window: QEMU runs, and no state record knows its pid.
    const orphans = pidsWithArg(first.runDir);
    expect(orphans).toHaveLength(1);
    const records = readdirSync(first.stateDir).filter((n) => n.endsWith('.json'));
    for (const name of records) expect(JSON.parse(readFileSync(path.join(first.stateDir, name), 'utf8'))).toMatchObject({ pid: null });

    const second = await start('6615-6619', {}, first.base);
    expect(pidsWithArg(second.runDir)).toEqual([]);
    expect(second.output()).toMatch(new RegExp(`"pid":${orphans[0]}.*"msg":"stopping a QEMU no state record names`));
    // What a record there was is kept as failed, with the reason; its files are gone, nothing leaks.
    const { vms } = await second.call<{ vms: WireVm[] }>('ListVms', {});
    expect(vms.map((v) => [v.state, v.exit?.reason])).toEqual(
      records.map(() => ['failed', `the manager stopped while creating the VM; its QEMU (pid ${orphans[0]}) was stopped`]),
    );
    await until(() => dirEntries(second.runDir).length === 0, 5000, 'the VM directory to go');
    for (const vm of vms) await second.call('RemoveVm', { cvm_id: vm.id });
    expect(dirEntries(second.stateDir)).toEqual([]); // (the running manager's own lock file aside)
    // The next create works normally.
    const created = await second.call<{ cvm_id: string }>('CreateVm', {});
    expect(pidsWithArg(path.join(second.runDir, created.cvm_id))).toHaveLength(1);
    await second.call('RemoveVm', { cvm_id: created.cvm_id });
    expect(pidsWithArg(second.runDir)).toEqual([]);
  });

  it('refuses an unknown crash step with one line, and ignores the drill without MANAGER_TEST_HOOKS=1', async () => {
    const base = mkdtempSync(path.join(fixtures, 'drill-'));
    const bad = await execa('node', [MAIN], {
      env: { ...testManagerEnv(base, '6620-6624'), MANAGER_TEST_HOOKS: '1', MANAGER_TEST_CRASH_AFTER: 'launch' },
      extendEnv: false,
      reject: false,
      timeout: 30_000,
    });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toBe(
      'cocos-manager: MANAGER_TEST_CRASH_AFTER: "launch" is not a create or removal step; expected one of reserve-port, prepare-files, prepare-backend, prepare-boot, spawn, qmp-ready, supervise, remove-stopping, remove-stopped, remove-released',
    );
    const m = await start('6620-6624', { MANAGER_TEST_CRASH_AFTER: 'reserve-port' });
    const created = await m.call<{ cvm_id: string }>('CreateVm', {});
    await m.call('RemoveVm', { cvm_id: created.cvm_id });
  });
});

describe('client-facing errors carry no host paths (real QEMU, real binary)', () => {
  it('missing firmware vars and a kernel QEMU cannot open: the reason without a path, the detail in the log', async () => {
    const files = mkdtempSync(path.join(fixtures, 'files-'));
    const vars = path.join(files, 'OVMF_VARS.fd');
    const kernel = path.join(files, 'bzImage');
    copyFileSync('/usr/share/OVMF/OVMF_VARS.fd', vars);
    copyFileSync(path.join(DEV_GUEST, 'bzImage'), kernel);
    const m = await start('6630-6634', { MANAGER_QEMU_OVMF_VARS_FILE: vars, MANAGER_QEMU_DISK_IMG_KERNEL_FILE: kernel });
    rmSync(vars);
    const noVars = await m.call('CreateVm', {}).catch((e: ServiceError) => e);
    copyFileSync('/usr/share/OVMF/OVMF_VARS.fd', vars);
    rmSync(kernel);
    const noKernel = await m.call('CreateVm', {}).catch((e: ServiceError) => e);
    expect(noVars).toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringMatching(/^VM_PREPARE_FAILED: preparing the plain backend failed: .*…\/OVMF_VARS\.fd/),
    });
    expect(noKernel).toMatchObject({
      code: status.INTERNAL,
      details: "QEMU_EXITED_AT_START: QEMU exited during start-up: QEMU exited with code 1; its last output is in the manager's log",
    });
    for (const err of [noVars, noKernel] as ServiceError[]) {
      expect(err.details).not.toContain(files);
      expect(err.details).not.toContain(m.runDir);
      expect(err.details).not.toMatch(/(^|[\s'"=])\/\w/);
    }
    // The operator's log has the whole story.
    expect(m.output()).toContain(`${files}/OVMF_VARS.fd`);
    expect(m.output()).toMatch(/could not open kernel file/);
  });
});

describe('no silent death (real binary)', () => {
  it('logs an unhandled rejection and an uncaught exception after start, one line each, and keeps serving', async () => {
    const plugin = path.join(fixtures, 'misbehaving.mjs');
    writeFileSync(
      plugin,
      [
        "export default { name: 'misbehaving-plugin', version: '1.0.0', coreVersionRange: '^0.1.0', register() {",
        "  setTimeout(() => { Promise.reject(new Error('fixture: a rejection nobody awaits')); }, 3000);",
        "  setTimeout(() => { throw new Error('fixture: thrown from a timer'); }, 3500);",
        '} };',
      ].join('\n'),
    );
    const m = await start('6625-6629', { MANAGER_PLUGINS: plugin });
    await until(() => m.output().includes('fixture: thrown from a timer'), 10_000, 'both faults to be logged');
    const lines = m.output().split('\n');
    const rejection = lines.filter((l) => l.includes('fixture: a rejection nobody awaits'));
    const exception = lines.filter((l) => l.includes('fixture: thrown from a timer'));
    expect(rejection).toHaveLength(1);
    expect(rejection[0]).toMatch(/"level":50.*"msg":"unhandled promise rejection; the manager keeps serving"/);
    expect(exception).toHaveLength(1);
    expect(exception[0]).toMatch(/"level":50.*"msg":"uncaught exception; the manager keeps serving"/);
    expect(m.process.exitCode).toBeNull();
    expect(await m.call('ListVms', {})).toEqual({ vms: [], next_page_token: '' });
    expect((await m.http('GET', '/health')).status).toBe(200);
  });
});
