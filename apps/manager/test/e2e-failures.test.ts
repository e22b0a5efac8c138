import { copyFileSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyCreateVmRequest, ErrorCode, ManagerError } from '@cocos-manager/core';
import { Manager, PORT_ALLOCATOR, PortAllocator } from '@cocos-manager/core/internal';
import { defaultPlugins } from '../src/plugins.js';
import { DEV_GUEST, testManagerEnv, dirEntries, pidsWithArg, rssKiB, startManager, type RunningManager, type CreatedVm as Created } from './harness.js';

const managers: RunningManager[] = [];
async function start(range: string, env: Record<string, string> = {}) {
  const m = await startManager(range, { MANAGER_VM_POWERDOWN_TIMEOUT: '0s', ...env });
  managers.push(m);
  return m;
}
afterEach(async () => {
  for (const m of managers.splice(0)) await m.dispose();
});

/** What a manager holds: QEMU processes, per-VM directories, state files. */
function footprint(m: RunningManager) {
  return { processes: pidsWithArg(m.runDir).length, dirs: dirEntries(m.runDir).sort(), states: dirEntries(m.stateDir).sort() };
}

describe('bad requests', () => {
  it('get exact status codes and change nothing', async () => {
    const m = await start('6380-6384');
    const kept = await m.call<Created>('CreateVm', {});
    const before = footprint(m);
    const cases: Array<[string, unknown, status, RegExp]> = [
      ['RemoveVm', { cvm_id: 'no-such-vm' }, status.NOT_FOUND, /no VM with id "no-such-vm"/],
      ['RemoveVm', { cvm_id: '' }, status.INVALID_ARGUMENT, /VM id is empty/],
      ['CVMInfo', { id: '' }, status.INVALID_ARGUMENT, /VM id is empty/],
      ['CVMInfo', { id: 'nope' }, status.NOT_FOUND, /no VM/],
      ['AttestationPolicy', { id: 'nope' }, status.NOT_FOUND, /no VM/],
      ['GetVm', { id: 'nope' }, status.NOT_FOUND, /no VM/],
      ['CreateVm', { ttl: '-5s' }, status.INVALID_ARGUMENT, /ttl "-5s" must be positive/],
      ['CreateVm', { ttl: '99999999h' }, status.INVALID_ARGUMENT, /longer than the maximum/],
      ['CreateVm', { ttl: 'soon' }, status.INVALID_ARGUMENT, /invalid duration "soon"/],
      ['CreateVm', { agent_cvm_client_cert: Buffer.alloc(10 * 1024 * 1024, 0x41) }, status.INVALID_ARGUMENT, /agent_cvm_client_cert is 10485760 bytes/],
      ['CreateVm', { agent_cvm_server_ca_cert: Buffer.alloc(300 * 1024) }, status.INVALID_ARGUMENT, /agent_cvm_server_ca_cert/],
      ['CreateVm', { agent_log_level: 'x'.repeat(5000) }, status.INVALID_ARGUMENT, /agent_log_level is 5000 bytes/],
      ['CreateVm', { aws_region: 'r'.repeat(4097) }, status.INVALID_ARGUMENT, /aws_region/],
      ['CreateVm', { agent_cvm_server_url: 'a\nAGENT_CVM_ID=forged' }, status.INVALID_ARGUMENT, /control character/],
      ['CreateVm', { aa_kbs_params: 'x init=/bin/sh' }, status.INVALID_ARGUMENT, /printable ASCII without spaces/],
    ];
    for (const [method, request, code, message] of cases) {
      const err = (await m.call(method, request).catch((e: unknown) => e)) as { code: status; details: string };
      expect({ method, code: err.code }).toEqual({ method, code });
      expect(err.details).toMatch(message);
    }
    expect(footprint(m)).toEqual(before);
    await m.call('RemoveVm', { cvm_id: kept.cvm_id });
    // No port reservation leaked: the next VM gets the first port again.
    const next = await m.call<Created>('CreateVm', {});
    expect(next.forwarded_port).toBe('6380');
    await m.call('RemoveVm', { cvm_id: next.cvm_id });
  });
});

describe('load', () => {
  it('a burst of 3×MANAGER_MAX_VMS creates: exactly MAX succeed on distinct ports, the rest RESOURCE_EXHAUSTED', async () => {
    const m = await start('6385-6399', { MANAGER_MAX_VMS: '3' });
    const results = await Promise.allSettled(Array.from({ length: 9 }, () => m.call<Created>('CreateVm', {})));
    const ok = results.filter((r): r is PromiseFulfilledResult<Created> => r.status === 'fulfilled').map((r) => r.value);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as { code: status }).code);
    expect(ok).toHaveLength(3);
    expect(new Set(ok.map((v) => v.forwarded_port)).size).toBe(3);
    expect(refused).toEqual(Array(6).fill(status.RESOURCE_EXHAUSTED));
    expect(footprint(m)).toEqual({ processes: 3, dirs: ok.map((v) => v.cvm_id).sort(), states: ok.map((v) => `${v.cvm_id}.json`).sort() });
    await Promise.all(ok.map((v) => m.call('RemoveVm', { cvm_id: v.cvm_id })));
    expect(footprint(m)).toEqual({ processes: 0, dirs: [], states: [] });
  });

  it('50 create/remove cycles leak no process, file or port, and memory stays flat', async () => {
    const m = await start('6400-6404');
    // Warm up first (JIT, pools, first allocations), so the growth measured is steady-state.
    for (let i = 0; i < 10; i++) {
      const warmup = await m.call<Created>('CreateVm', {});
      await m.call('RemoveVm', { cvm_id: warmup.cvm_id });
    }
    const rssBefore = rssKiB(m.pid);
    for (let i = 0; i < 50; i++) {
      const vm = await m.call<Created>('CreateVm', {});
      expect(vm.forwarded_port).toBe('6400');
      await m.call('RemoveVm', { cvm_id: vm.cvm_id });
    }
    const rssAfter = rssKiB(m.pid);
    console.log(`manager RSS over 50 create/remove cycles: ${(rssBefore / 1024).toFixed(1)} MiB -> ${(rssAfter / 1024).toFixed(1)} MiB`);
    expect(footprint(m)).toEqual({ processes: 0, dirs: [], states: [] });
    expect(rssAfter - rssBefore).toBeLessThan(16 * 1024);
  });
});

describe('failure injection: a failed create leaves nothing behind', () => {
  it('QEMU binary gone after start-up → FAILED_PRECONDITION', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'cm-bin-'));
    const qemu = path.join(base, 'qemu-system-x86_64');
    symlinkSync('/usr/bin/qemu-system-x86_64', qemu);
    try {
      const m = await start('6405-6409', { MANAGER_QEMU_BIN_PATH: qemu });
      rmSync(qemu);
      await expect(m.call('CreateVm', {})).rejects.toMatchObject({
        code: status.FAILED_PRECONDITION,
        details: expect.stringMatching(/starting QEMU failed: .*ENOENT/),
      });
      expect(footprint(m)).toEqual({ processes: 0, dirs: [], states: [] });
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('OVMF vars template unreadable → FAILED_PRECONDITION', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'cm-ovmf-'));
    const vars = path.join(base, 'OVMF_VARS.fd');
    copyFileSync('/usr/share/OVMF/OVMF_VARS.fd', vars);
    try {
      const m = await start('6410-6414', { MANAGER_QEMU_OVMF_VARS_FILE: vars });
      rmSync(vars);
      await expect(m.call('CreateVm', {})).rejects.toMatchObject({
        code: status.FAILED_PRECONDITION,
        details: expect.stringMatching(/preparing the plain backend failed: .*OVMF_VARS\.fd/),
      });
      expect(footprint(m)).toEqual({ processes: 0, dirs: [], states: [] });
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  // Started by the QEMU spawner (the default) and directly by the manager.
  it.each(['helper', 'direct'])(
    "kernel gone after start-up: QEMU exits during start-up → INTERNAL with QEMU's reason (MANAGER_QEMU_SPAWNER=%s)",
    async (spawner) => {
      const base = await mkdtemp(path.join(os.tmpdir(), 'cm-kernel-'));
      const kernel = path.join(base, 'bzImage');
      copyFileSync(path.join(DEV_GUEST, 'bzImage'), kernel);
      try {
        const m = await start('6415-6419', { MANAGER_QEMU_DISK_IMG_KERNEL_FILE: kernel, MANAGER_QEMU_SPAWNER: spawner });
        rmSync(kernel);
        // The client hears why without host paths; QEMU's own words (with the path) are in the manager's log.
        await expect(m.call('CreateVm', {})).rejects.toMatchObject({
          code: status.INTERNAL,
          details: "QEMU_EXITED_AT_START: QEMU exited during start-up: QEMU exited with code 1; its last output is in the manager's log",
        });
        expect(m.output()).toMatch(/could not open kernel file '[^']*bzImage': No such file/);
        expect(footprint(m)).toEqual({ processes: 0, dirs: [], states: [] });
      } finally {
        await rm(base, { recursive: true, force: true });
      }
    },
  );

  it("forwarded port taken between allocation and QEMU's bind → INTERNAL naming the hostfwd rule", async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'cm-port-'));
    const env = testManagerEnv(base, '6420-6420');
    // An allocator that believes every port is free stands in for losing the race.
    const manager = Manager.create({
      plugins: defaultPlugins,
      env,
      logger: pino({ level: 'silent' }),
      overrides: [{ token: PORT_ALLOCATOR, useValue: new PortAllocator({ first: 6420, last: 6420 }, async () => true) }],
    });
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(6420, '0.0.0.0', resolve));
    try {
      await manager.start();
      const err = await manager.service.create(emptyCreateVmRequest()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ManagerError);
      expect((err as ManagerError).code).toBe(ErrorCode.Internal);
      expect((err as Error).message).toMatch(/QEMU exited during start-up: .*host forwarding rule/i);
      expect(pidsWithArg(env['MANAGER_RUN_DIR']!)).toEqual([]);
      expect(dirEntries(env['MANAGER_RUN_DIR']!)).toEqual([]);
      expect(dirEntries(env['MANAGER_STATE_DIR']!)).toEqual([]);
      expect(manager.service.portUsage().inUse).toBe(0);
      expect(manager.service.list()).toEqual([]);
    } finally {
      await manager.stop({ removeVms: true });
      await new Promise((r) => squatter.close(r));
      await rm(base, { recursive: true, force: true });
    }
  });
});

describe('reconciler and ports', () => {
  it('releases a reserved port that no VM holds', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'cm-recon-'));
    const allocator = new PortAllocator({ first: 6425, last: 6429 });
    const manager = Manager.create({
      plugins: defaultPlugins,
      env: { ...testManagerEnv(base, '6425-6429'), MANAGER_VM_POWERDOWN_TIMEOUT: '0s' },
      logger: pino({ level: 'silent' }),
      overrides: [{ token: PORT_ALLOCATOR, useValue: allocator }],
    });
    try {
      await manager.start();
      const vm = await manager.service.create(emptyCreateVmRequest());
      allocator.claim(6428); // a reservation nobody owns, as a bug would leave it
      expect(await manager.service.reconcile()).toEqual({ directories: [], stateFiles: [], ports: [6428] });
      expect(allocator.reservedPorts()).toEqual([vm.forwardedPort]);
      await manager.service.remove(vm.id);
    } finally {
      await manager.stop({ removeVms: true });
      await rm(base, { recursive: true, force: true });
    }
  });
});
