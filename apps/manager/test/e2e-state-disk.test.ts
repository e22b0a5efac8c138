import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execaSync } from 'execa';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promtoolProblems } from './promtool-lint.js';
import { pidsWithArg, processState, startManager, type CreatedVm, type RunningManager, type WireVm } from './harness.js';

// The state directory on a small tmpfs (mounted by the test: CI runs as root), filled to the last
// block once the manager runs: a VM exists for a client only once its record is on disk.

const RANGE = '6800-6809';
let base: string;
let stateDir: string;
const managers: RunningManager[] = [];

beforeAll(() => {
  base = mkdtempSync(path.join(os.tmpdir(), 'cm-state-disk-'));
  stateDir = path.join(base, 'state');
  mkdirSync(stateDir, { mode: 0o700 });
  execaSync('mount', ['-t', 'tmpfs', '-o', 'size=512k,mode=0700', 'tmpfs', stateDir]);
});
afterAll(async () => {
  for (const m of managers.splice(0).reverse()) await m.dispose().catch(() => undefined);
  execaSync('umount', [stateDir], { reject: false });
  rmSync(base, { recursive: true, force: true });
});

/** Fills the filesystem of `dir` with one file until ENOSPC; returns the file. */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'w', 0o600);
  const block = Buffer.alloc(4096, 0x5a);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return file;
}

const entries = () => readdirSync(stateDir).sort();
const qemusOf = (m: RunningManager) => pidsWithArg(m.runDir);

describe('a full state disk (tmpfs, real binary, real QEMU)', () => {
  it('CreateVm fails with STATE_DISK_FULL and leaves nothing; the running VM keeps its record; after space returns creates work and a restart re-adopts', async () => {
    const first = await startManager(RANGE, { MANAGER_VM_POWERDOWN_TIMEOUT: '0s' }, base);
    managers.push(first);
    const kept = await first.call<CreatedVm>('CreateVm', {});
    const keptPid = (await first.call<WireVm>('GetVm', { id: kept.cvm_id })).pid;
    const keptRecord = readFileSync(path.join(stateDir, `${kept.cvm_id}.json`), 'utf8');

    const filler = fill(stateDir);
    const err = (await first.call('CreateVm', {}).catch((e: unknown) => e)) as { code: number; details: string };
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(
      /^STATE_DISK_FULL: the state disk is full \(ENOSPC at write of the VM's state record\): free space on the filesystem of MANAGER_STATE_DIR$/,
    );
    expect(err.details).not.toContain(base);
    // The REST mirror says the same: 507 Insufficient Storage.
    const rest = await first.http('POST', '/vms', {});
    expect(rest.status).toBe(507);
    expect(rest.json).toMatchObject({ error: { code: 'RESOURCE_EXHAUSTED', message: expect.stringMatching(/^STATE_DISK_FULL: the state disk is full/) } });

    // No QEMU, run directory or temporary file of the refused VMs; the running VM and its record as they were.
    expect(qemusOf(first)).toEqual([keptPid]);
    expect(readdirSync(first.runDir)).toEqual([kept.cvm_id]);
    expect(entries()).toEqual([`${kept.cvm_id}.json`, 'filler', 'manager.lock'].sort());
    expect(readFileSync(path.join(stateDir, `${kept.cvm_id}.json`), 'utf8')).toBe(keptRecord);
    expect((await first.call<{ vms: WireVm[] }>('ListVms', {})).vms.map((vm) => [vm.id, vm.state, vm.state_write_error])).toEqual([
      [kept.cvm_id, 'running', ''],
    ]);
    const metrics = (await first.http('GET', '/metrics')).text;
    expect(Number(/^manager_state_write_failures_total\{reason="disk-full"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(metrics).toMatch(/^manager_vm_create_duration_seconds_count\{outcome="failed"\} 2$/m);
    expect(await promtoolProblems(metrics)).toEqual([]);

    // Space returns: creates work again, and a manager restarted after kill -9 re-adopts both VMs.
    rmSync(filler);
    const added = await first.call<CreatedVm>('CreateVm', {});
    const addedPid = (await first.call<WireVm>('GetVm', { id: added.cvm_id })).pid;
    await first.kill9();
    const second = await startManager(RANGE, { MANAGER_VM_POWERDOWN_TIMEOUT: '0s' }, base);
    managers.push(second);
    const vms = (await second.call<{ vms: WireVm[] }>('ListVms', {})).vms;
    expect(vms.map((vm) => [vm.id, vm.state, vm.adopted, vm.pid]).sort()).toEqual(
      [
        [kept.cvm_id, 'running', true, keptPid],
        [added.cvm_id, 'running', true, addedPid],
      ].sort(),
    );
    for (const vm of [kept, added]) await second.call('RemoveVm', { cvm_id: vm.cvm_id });
    expect(qemusOf(second)).toEqual([]);
    for (const pid of [keptPid, addedPid]) expect(processState(pid)).toBeNull();
    expect(entries()).toEqual(['manager.lock']);
  });
});
