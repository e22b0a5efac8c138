import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  dirEntries,
  portIsBindable,
  parentPid,
  parseGuestAnswer,
  pidsWithArg,
  processState,
  REPO,
  spawnerOf,
  startManager,
  until,
  waitForGuest,
  type RunningManager,
  type CreatedVm as Created,
  type WireVm as VmInfo,
} from './harness.js';

const managers: RunningManager[] = [];
async function start(range: string, env: Record<string, string> = {}, base?: string) {
  const m = await startManager(range, { MANAGER_VM_POWERDOWN_TIMEOUT: '2s', ...env }, base);
  managers.push(m);
  return m;
}
afterEach(async () => {
  for (const m of managers.splice(0).reverse()) await m.dispose();
});

describe('supervision', () => {
  it("notices kill -9 of a VM's QEMU at once: failed with the signal, nothing left, RemoveVm works", async () => {
    const m = await start('6340-6344');
    const created = await m.call<Created>('CreateVm', {});
    const { pid } = await m.call<VmInfo>('GetVm', { id: created.cvm_id });
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    await until(async () => (await m.call<VmInfo>('GetVm', { id: created.cvm_id })).state === 'failed', 1000, 'the VM to be failed');
    await until(() => dirEntries(m.runDir).length === 0, 1000 - (Date.now() - killedAt), 'per-VM files to go');
    expect(Date.now() - killedAt).toBeLessThan(1000);
    expect(processState(pid)).toBeNull(); // no zombie
    expect(await portIsBindable(Number(created.forwarded_port))).toBe(true);
    const vm = await m.call<VmInfo>('GetVm', { id: created.cvm_id });
    expect(vm.exit).toMatchObject({ signal: 'SIGKILL', code: -1 });
    expect(vm.exit?.reason).toMatch(/QEMU killed by SIGKILL/);
    expect(vm.pid).toBe(0);
    expect((await m.call<{ vms: VmInfo[] }>('ListVms', {})).vms.map((v) => v.state)).toEqual(['failed']);
    await m.call('RemoveVm', { cvm_id: created.cvm_id });
    await expect(m.call('GetVm', { id: created.cvm_id })).rejects.toMatchObject({ code: status.NOT_FOUND });
    expect(dirEntries(m.stateDir)).toEqual([]);
  });

  it('the QEMU spawner killed: restarted, its VMs run on and stay supervised (an exit is seen, removal works)', async () => {
    // The paused stand-in (real QEMU, -S): what is tested is process supervision, not a boot.
    const stand = { MANAGER_QEMU_BIN_PATH: path.join(REPO, 'tools/stand-in/qemu-paused'), MANAGER_QEMU_MEMORY_SIZE: '64M', MANAGER_VM_POWERDOWN_TIMEOUT: '0s' };
    const m = await start('6350-6354', stand);
    const [a, b] = [await m.call<Created>('CreateVm', {}), await m.call<Created>('CreateVm', {})];
    const pidOf = async (c: Created) => (await m.call<VmInfo>('GetVm', { id: c.cvm_id })).pid;
    const [pidA, pidB] = [await pidOf(a), await pidOf(b)];
    const spawner = spawnerOf(m.pid)!;
    expect([parentPid(pidA), parentPid(pidB)]).toEqual([spawner, spawner]); // QEMUs are the spawner's children, not the manager's

    process.kill(spawner, 'SIGKILL');
    await until(() => (spawnerOf(m.pid) ?? spawner) !== spawner, 5000, 'a new spawner');
    expect(processState(spawner)).toBeNull(); // reaped by the manager
    expect(m.output()).toMatch(/"msg":"the QEMU spawner exited; the VMs it started run on, supervised as adopted; restarting it"/);
    for (const [c, pid] of [
      [a, pidA],
      [b, pidB],
    ] as const)
      expect(await m.call<VmInfo>('GetVm', { id: c.cvm_id })).toMatchObject({ state: 'running', pid });
    const c = await m.call<Created>('CreateVm', {});
    expect(parentPid(await pidOf(c))).toBe(spawnerOf(m.pid));

    // A QEMU of the dead spawner dies: noticed (its QMP connection ends), the VM failed, its port and files released.
    process.kill(pidA, 'SIGKILL');
    await until(async () => (await m.call<VmInfo>('GetVm', { id: a.cvm_id })).state === 'failed', 3000, 'the VM to be failed');
    expect((await m.call<VmInfo>('GetVm', { id: a.cvm_id })).exit?.reason).toMatch(
      /^QEMU \(supervised without its parent, the QEMU spawner, which died\) exited/,
    );
    await until(() => !dirEntries(m.runDir).includes(a.cvm_id), 3000, "the failed VM's files to go");
    expect(processState(pidA)).toBeNull();
    expect(await portIsBindable(Number(a.forwarded_port))).toBe(true);
    // The other is removed through the stop ladder, signalled without its spawner.
    for (const vm of [a, b, c]) await m.call('RemoveVm', { cvm_id: vm.cvm_id });
    expect(processState(pidB)).toBeNull();
    expect(pidsWithArg(m.runDir)).toEqual([]);
  });

  it("reports the guest's run state through QMP", async () => {
    const m = await start('6345-6349');
    const created = await m.call<Created>('CreateVm', {});
    expect((await m.call<VmInfo>('GetVm', { id: created.cvm_id })).guest_status).toBe('running');
    await m.call('RemoveVm', { cvm_id: created.cvm_id });
  });
});

describe('restart recovery', () => {
  // One booted guest whose QEMU outlives the manager (many records re-adopted at once: e2e-hundred-vms.test.ts).
  it('a new manager re-adopts the VM of one killed with -9, whose guest still answers, and can remove it', async () => {
    const first = await start('6350-6359');
    const a = await first.call<Created>('CreateVm', {});
    await waitForGuest(Number(a.forwarded_port));
    const pids = (await first.call<{ vms: VmInfo[] }>('ListVms', {})).vms.map((v) => v.pid);
    await first.kill9();

    const second = await start('6350-6359', {}, first.base);
    const vms = (await second.call<{ vms: VmInfo[] }>('ListVms', {})).vms;
    expect(vms.map((v) => [v.id, v.state, v.adopted])).toEqual([[a.cvm_id, 'running', true]]);
    expect(vms.map((v) => v.pid)).toEqual(pids);
    expect(parseGuestAnswer(await waitForGuest(Number(a.forwarded_port), 5000))['AGENT_CVM_ID']).toBe(a.cvm_id);
    // New VMs get other ports: the adopted one is claimed.
    const c = await second.call<Created>('CreateVm', {});
    expect(c.forwarded_port).not.toBe(a.forwarded_port);

    await Promise.all([a, c].map((vm) => second.call('RemoveVm', { cvm_id: vm.cvm_id })));
    for (const pid of pids) expect(processState(pid)).toBeNull();
    expect(pidsWithArg(second.runDir)).toEqual([]);
    expect(dirEntries(second.runDir)).toEqual([]);
    expect(dirEntries(second.stateDir)).toEqual([]);
  });

  it('VMs survive a graceful manager stop, and a re-adopted VM dying is noticed', async () => {
    const first = await start('6360-6364');
    const created = await first.call<Created>('CreateVm', {});
    const { pid } = await first.call<VmInfo>('GetVm', { id: created.cvm_id });
    expect(await first.stop()).toBe(0);
    expect(processState(pid)).not.toBeNull();

    const second = await start('6360-6364', {}, first.base);
    expect(await second.call<VmInfo>('GetVm', { id: created.cvm_id })).toMatchObject({ state: 'running', adopted: true, pid });
    process.kill(pid, 'SIGKILL');
    await until(async () => (await second.call<VmInfo>('GetVm', { id: created.cvm_id })).state === 'failed', 3000, 'the re-adopted VM to be failed');
    expect((await second.call<VmInfo>('GetVm', { id: created.cvm_id })).exit?.reason).toMatch(/re-adopted/);
    // Its teardown follows the state change: the directory goes within moments, not necessarily before the answer.
    await until(() => dirEntries(second.runDir).length === 0, 30_000, "the dead VM's directory to be removed");
    await second.call('RemoveVm', { cvm_id: created.cvm_id });
  });

  it('never adopts a record whose pid belongs to an unrelated process: leaves it alone, cleans the record', async () => {
    const first = await start('6365-6369');
    const created = await first.call<Created>('CreateVm', {});
    await first.call('RemoveVm', { cvm_id: created.cvm_id });
    await first.stop();

    // A record as a crashed manager would leave it, whose pid is now a `sleep`.
    const sleeper = execa('sleep', ['300'], { reject: false });
    const stat = readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8');
    const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    const id = '11111111-2222-4333-8444-555555555555';
    mkdirSync(path.join(first.runDir, id, 'env'), { recursive: true });
    writeFileSync(
      path.join(first.stateDir, `${id}.json`),
      JSON.stringify({
        version: 1,
        id,
        state: 'running',
        pid: sleeper.pid,
        pidStartTime: startTime,
        hostPort: 6366,
        backend: 'plain',
        boot: 'ram',
        createdAt: new Date().toISOString(),
        ttlDeadline: null,
        kernelCommandLine: 'x',
        exit: null,
      }),
    );
    try {
      const second = await start('6365-6369', {}, first.base);
      expect((await second.call<{ vms: VmInfo[] }>('ListVms', {})).vms).toEqual([]);
      expect(processState(sleeper.pid!)).not.toBeNull(); // untouched
      expect(dirEntries(second.stateDir)).toEqual([]);
      expect(dirEntries(second.runDir)).toEqual([]);
      expect(second.output()).toMatch(/does not carry -name cvm-11111111/);
    } finally {
      sleeper.kill('SIGKILL');
      await sleeper;
    }
  });

  it('a TTL still fires at its original deadline after a restart', async () => {
    const first = await start('6370-6374', { MANAGER_VM_POWERDOWN_TIMEOUT: '0s' });
    const created = await first.call<Created>('CreateVm', { ttl: '6s' });
    const { ttl_deadline: deadline, pid } = await first.call<VmInfo>('GetVm', { id: created.cvm_id });
    await first.kill9();
    const second = await start('6370-6374', { MANAGER_VM_POWERDOWN_TIMEOUT: '0s' }, first.base);
    expect(await second.call<VmInfo>('GetVm', { id: created.cvm_id })).toMatchObject({ ttl_deadline: deadline, adopted: true });
    expect(Date.parse(deadline)).toBeGreaterThan(Date.now());
    await until(async () => (await second.call<{ vms: unknown[] }>('ListVms', {})).vms.length === 0, 20_000, 'the TTL');
    const fired = second
      .output()
      .split('\n')
      .filter((l) => l.includes(created.cvm_id) && l.includes('TTL reached'))
      .map((l) => (JSON.parse(l) as { time: number }).time);
    expect(fired).toHaveLength(1);
    expect(fired[0]!).toBeGreaterThanOrEqual(Date.parse(deadline));
    expect(fired[0]! - Date.parse(deadline)).toBeLessThan(1000);
    expect(processState(pid)).toBeNull();
    expect(dirEntries(second.runDir)).toEqual([]);
  });
});

describe('reconciler', () => {
  it('sweeps orphaned per-VM directories and state files periodically, and leaves live VMs alone', async () => {
    const m = await start('6375-6379', { MANAGER_RECONCILE_INTERVAL: '500ms' });
    const live = await m.call<Created>('CreateVm', {});
    const orphan = '99999999-8888-4777-8666-555555555555';
    mkdirSync(path.join(m.runDir, orphan, 'certs'), { recursive: true });
    writeFileSync(path.join(m.runDir, orphan, 'certs', 'key.pem'), 'secret');
    writeFileSync(path.join(m.stateDir, `${orphan}.json`), '{}');
    mkdirSync(path.join(m.runDir, 'not-a-vm'));
    await until(() => !dirEntries(m.runDir).includes(orphan) && !dirEntries(m.stateDir).includes(`${orphan}.json`), 3000, 'the sweep');
    expect(dirEntries(m.runDir).sort()).toEqual([live.cvm_id, 'not-a-vm'].sort());
    expect(dirEntries(m.stateDir)).toEqual([`${live.cvm_id}.json`]);
    expect(m.output()).toMatch(/reconciler removed orphans/);
    expect((await m.call<VmInfo>('GetVm', { id: live.cvm_id })).state).toBe('running');
    await m.call('RemoveVm', { cvm_id: live.cvm_id });
  });
});
