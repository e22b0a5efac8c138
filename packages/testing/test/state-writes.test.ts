import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clientErrorOf, emptyCreateVmRequest, ErrorCode, METRICS } from '@cocos-manager/core';
import { STATE_VERSION, StateStore, type Manager, type VmStateRecord } from '@cocos-manager/core/internal';
import { FakeLauncher } from '../src/fake-launcher.js';
import { FaultyStateFiles, type StateFileCall } from '../src/faulty-state-files.js';
import { capturingLogger, startFakeManager, testDirs, type TestDirs } from './fake-manager.js';

let dirs: TestDirs;
const managers: Manager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0).reverse()) await m.stop({ removeVms: true }).catch(() => undefined);
  dirs?.remove();
});

const ID = '0b7c7d1e-3f3a-4c1e-9d55-2a6f0e0c9a11';
function record(state: VmStateRecord['state']): VmStateRecord {
  return {
    version: STATE_VERSION,
    id: ID,
    state,
    pid: null,
    pidStartTime: null,
    hostPort: 7100,
    backend: 'inert',
    boot: 'ram',
    createdAt: new Date().toISOString(),
    ttlDeadline: null,
    kernelCommandLine: 'quiet',
    exit: null,
  };
}

/** The state directory's entries. */
const stateEntries = () => readdirSync(dirs.state).filter((n) => n !== 'manager.lock');

describe('StateStore.save: an atomic write that leaves no temporary file, whichever step fails', () => {
  it.each<[StateFileCall, string, string, ErrorCode]>([
    ['write', 'ENOSPC', 'STATE_DISK_FULL', ErrorCode.ResourceExhausted],
    ['write', 'EDQUOT', 'STATE_DISK_FULL', ErrorCode.ResourceExhausted],
    ['fsync', 'ENOSPC', 'STATE_DISK_FULL', ErrorCode.ResourceExhausted],
    ['fsync', 'EIO', 'STATE_WRITE_FAILED', ErrorCode.Internal],
    ['rename', 'EIO', 'STATE_WRITE_FAILED', ErrorCode.Internal],
    ['open', 'ENOSPC', 'STATE_DISK_FULL', ErrorCode.ResourceExhausted],
  ])('%s failing with %s: %s (%s), the old record intact, no temporary file', async (call, code, kind, status) => {
    dirs = testDirs();
    mkdirSync(dirs.state, { mode: 0o700 });
    const files = new FaultyStateFiles();
    const store = new StateStore(dirs.state, files);
    await store.save(record('starting'));
    files.fail(call, code, 1);
    const err = await store.save(record('running')).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind, code: status });
    const client = clientErrorOf(err);
    expect(client.message).toMatch(new RegExp(`^STATE_(DISK_FULL|WRITE_FAILED): .*\\(${code} at `));
    expect(client.message).not.toContain(dirs.dir);
    expect(stateEntries()).toEqual([`${ID}.json`]);
    expect(files.leftTemps()).toEqual([]);
    expect(JSON.parse(readFileSync(store.file(ID), 'utf8'))).toMatchObject({ state: 'starting' });
    expect(store.writeFailures().get(code === 'EIO' ? 'other' : 'disk-full')).toBe(1);
    // The next write works again.
    await store.save(record('running'));
    expect(JSON.parse(readFileSync(store.file(ID), 'utf8'))).toMatchObject({ state: 'running' });
  });

  it('prepare writes the record aside, leaving the old one in place; commit puts it in place; discard leaves nothing', async () => {
    dirs = testDirs();
    mkdirSync(dirs.state, { mode: 0o700 });
    const store = new StateStore(dirs.state);
    await store.save(record('starting'));
    const ahead = await store.prepare(record('running'));
    expect(stateEntries().sort()).toEqual([`${ID}.json`, path.basename(ahead.temp)].sort());
    expect(JSON.parse(readFileSync(store.file(ID), 'utf8'))).toMatchObject({ state: 'starting' });
    await store.commit(ahead);
    expect(stateEntries()).toEqual([`${ID}.json`]);
    expect(JSON.parse(readFileSync(store.file(ID), 'utf8'))).toMatchObject({ state: 'running' });
    await store.discard(await store.prepare(record('failed')));
    expect(stateEntries()).toEqual([`${ID}.json`]);
    expect(JSON.parse(readFileSync(store.file(ID), 'utf8'))).toMatchObject({ state: 'running' });
  });

  it('a rename the real filesystem refuses (the record path is a directory): STATE_WRITE_FAILED, no temporary file', async () => {
    dirs = testDirs();
    mkdirSync(path.join(dirs.state, `${ID}.json`), { recursive: true, mode: 0o700 });
    const store = new StateStore(dirs.state);
    await expect(store.save(record('running'))).rejects.toMatchObject({ kind: 'STATE_WRITE_FAILED', message: expect.stringMatching(/\(EISDIR at rename\)$/) });
    expect(stateEntries()).toEqual([`${ID}.json`]);
  });
});

describe('creates and a full state disk (fake launcher)', () => {
  it('the first record cannot be written: STATE_DISK_FULL, no QEMU started, nothing left; a running VM untouched; creates work once space returns', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const files = new FaultyStateFiles();
    const m = await startFakeManager(dirs, { launcher, stateFiles: files });
    managers.push(m);
    const running = await m.service.create(emptyCreateVmRequest());
    const saved = readFileSync(path.join(dirs.state, `${running.id}.json`), 'utf8');

    files.fill();
    const err = await m.service.create(emptyCreateVmRequest()).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'STATE_DISK_FULL', code: ErrorCode.ResourceExhausted });
    expect(clientErrorOf(err)).toMatchObject({ grpcStatus: 8, httpStatus: 507 });
    expect(clientErrorOf(err).message).toMatch(/^STATE_DISK_FULL: the state disk is full \(ENOSPC at write of the VM's state record\)/);
    expect(clientErrorOf(err).message).not.toContain(dirs.dir);
    expect(launcher.processes).toHaveLength(1); // only the running VM's
    expect(m.service.list().map((vm) => vm.id)).toEqual([running.id]);
    expect(m.service.portUsage().inUse).toBe(1);
    expect(await dirs.leftovers()).toEqual({ run: [running.id], state: [`${running.id}.json`] });
    expect(files.leftTemps()).toEqual([]);
    expect(readFileSync(path.join(dirs.state, `${running.id}.json`), 'utf8')).toBe(saved);

    files.heal();
    const next = await m.service.create(emptyCreateVmRequest());
    expect(JSON.parse(readFileSync(path.join(dirs.state, `${next.id}.json`), 'utf8'))).toMatchObject({ state: 'running', pid: launcher.processes[1]?.pid });
  });

  it("the Running record is written ahead while QEMU starts: when QMP greets it is on disk beside the 'starting' one, and only renamed", async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const seen: { record: unknown; ahead: unknown }[] = [];
    const m = await startFakeManager(dirs, {
      launcher,
      faults: {
        async after(step, vmId) {
          if (step !== 'qmp-ready') return;
          // The write ahead runs after the 'starting' record's; QMP of a fake QEMU greets at once.
          const ahead: unknown = await vi.waitFor(() => {
            const found = stateEntries().filter((n) => n.startsWith(vmId) && n.endsWith('.tmp'));
            expect(found).toHaveLength(1);
            return JSON.parse(readFileSync(path.join(dirs.state, found[0]!), 'utf8')) as unknown; // throws (and is retried) until written
          });
          seen.push({ record: JSON.parse(readFileSync(path.join(dirs.state, `${vmId}.json`), 'utf8')), ahead });
        },
      },
    });
    managers.push(m);
    const vm = await m.service.create(emptyCreateVmRequest());
    const pid = launcher.processes[0]?.pid;
    expect(seen).toEqual([{ record: expect.objectContaining({ state: 'starting', pid }), ahead: expect.objectContaining({ state: 'running', pid }) }]);
    // The record is the one written ahead (same fields, the state running), and no temporary file is left.
    const { state: _starting, ...rest } = seen[0]!.record as { state: string };
    expect(JSON.parse(readFileSync(path.join(dirs.state, `${vm.id}.json`), 'utf8'))).toEqual({ ...rest, state: 'running' });
    expect(stateEntries()).toEqual([`${vm.id}.json`]);
  });

  it.each<[string, StateFileCall, string, string]>([
    ['the disk fills after QEMU started', 'write', 'ENOSPC', 'STATE_DISK_FULL'],
    ['fsync fails after QEMU started', 'fsync', 'EIO', 'STATE_WRITE_FAILED'],
    ['the rename fails after QEMU started', 'rename', 'EIO', 'STATE_WRITE_FAILED'],
  ])('%s: the create fails (%s), QEMU is killed, nothing left', async (_what, call, code, kind) => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const files = new FaultyStateFiles();
    const m = await startFakeManager(dirs, {
      launcher,
      stateFiles: files,
      faults: {
        after(step) {
          if (step === 'spawn') files.fail(call, code);
        },
      },
    });
    managers.push(m);
    await expect(m.service.create(emptyCreateVmRequest())).rejects.toMatchObject({ kind });
    expect(launcher.processes).toHaveLength(1);
    expect(launcher.processes[0]?.signals).toEqual(['SIGKILL']);
    expect(launcher.running).toEqual([]);
    expect(await dirs.leftovers()).toEqual({ run: [], state: [] });
    expect(files.leftTemps()).toEqual([]);
    expect(m.service.portUsage().inUse).toBe(0);
    expect(m.service.list()).toEqual([]);
  });
});

describe('later state writes that fail are retried and surfaced, never dropped (fake launcher)', () => {
  it('a running VM whose transition cannot be written: logged, counted, shown on the VM; written once space returns', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const files = new FaultyStateFiles();
    const { logger, lines } = capturingLogger();
    const m = await startFakeManager(dirs, { launcher, stateFiles: files, logger, env: { MANAGER_FAILED_VM_RETENTION: '0s' } });
    managers.push(m);
    const vm = await m.service.create(emptyCreateVmRequest());
    expect((await m.service.get(vm.id)).stateWriteError).toBeNull();

    files.fill();
    launcher.processes[0]?.exit({ code: 3 });
    await expect.poll(() => m.service.list()[0]?.state, { timeout: 5000 }).toBe('failed');
    await expect.poll(() => files.failures.length, { timeout: 5000 }).toBeGreaterThanOrEqual(2); // the first try and a retry
    const shown = (await m.service.get(vm.id)).stateWriteError;
    expect(shown).toMatch(/^STATE_DISK_FULL: the state disk is full \(ENOSPC at write of the VM's state record\).*; \d+ failed attempts? since .*, retrying$/);
    const logged = lines.filter((l) => l['msg'] === 'writing VM state failed; retrying');
    expect(logged.length).toBeGreaterThanOrEqual(1);
    expect(logged[0]).toMatchObject({ vm: vm.id, code: 'STATE_DISK_FULL' });
    const metrics = await m.container.resolve<{ text(): Promise<string> }>(METRICS).text();
    expect(Number(/^manager_state_write_failures_total\{reason="disk-full"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/^manager_vms_state_unsaved 1$/m);
    // On disk it is still the running VM it was.
    expect(JSON.parse(readFileSync(path.join(dirs.state, `${vm.id}.json`), 'utf8'))).toMatchObject({ state: 'running' });

    files.heal();
    await expect.poll(async () => (await m.service.get(vm.id)).stateWriteError, { timeout: 5000 }).toBeNull();
    expect(JSON.parse(readFileSync(path.join(dirs.state, `${vm.id}.json`), 'utf8'))).toMatchObject({ state: 'failed', exit: { code: 3 } });
    expect(lines.some((l) => l['msg'] === 'VM state written after failed attempts' && l['vm'] === vm.id)).toBe(true);
    expect(await m.container.resolve<{ text(): Promise<string> }>(METRICS).text()).toMatch(/^manager_vms_state_unsaved 0$/m);
    expect(files.leftTemps()).toEqual([]);
  });
});
