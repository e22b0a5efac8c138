import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManagerProto } from '@cocos-manager/contract';
import { PROCESS_LAUNCHER } from '@cocos-manager/core';
import { Manager, PORT_ALLOCATOR, PortAllocator } from '@cocos-manager/core/internal';
import { createInertBackendPlugin, FakeLauncher } from '@cocos-manager/testing';
import { grpcTransportPlugin } from '@cocos-manager/transport-grpc';

/**
 * A thousand VMs on one manager, through the real gRPC transport, with the
 * test kit's fake launcher (no QEMU: what is measured is the manager's own
 * bookkeeping). Not timed — the figures are in `npm run bench`. After every
 * VM is removed nothing of them may be left: no VM, no port, no file, no
 * timer, watcher or socket, and the heap gives back what they took (a
 * second thousand keeps no more than the first did).
 */
const VMS = 1000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'cocos-thousand-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Pids no process of this host can have (above pid_max), so that the VM-origin guard never finds one of ours. */
function fakePidBase(): number {
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  return pidMax + VMS * 2 < 4_194_304 ? pidMax + 1 : 4_194_304 - VMS * 2;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** The heap after full collections (several: finalizers free more on the next). */
function settledHeapMiB(): number {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** The process's libuv handles and requests by kind (timers, watchers, sockets…). */
function resources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

async function inWaves<T, R>(items: readonly T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) results.push(...(await Promise.all(items.slice(i, i + width).map(task))));
  return results;
}

interface WireVm {
  id: string;
  state: string;
  forwarded_port: string;
  pid: number;
  created_at: string;
}

describe('a thousand VMs on one manager (fake launcher, real gRPC)', () => {
  it('creates, lists, gets and removes 1,000 VMs; nothing of them is left', async () => {
    const kernel = path.join(dir, 'bzImage');
    const rootfs = path.join(dir, 'rootfs.cpio.gz');
    writeFileSync(kernel, 'kernel');
    writeFileSync(rootfs, 'rootfs');
    const runDir = path.join(dir, 'run');
    const stateDir = path.join(dir, 'state');
    const launcher = new FakeLauncher({}, { firstPid: fakePidBase() });
    // Every port is free (fake QEMUs bind none): the pool's bookkeeping is what is checked.
    const ports = new PortAllocator({ first: 30_000, last: 30_000 + VMS - 1 }, async () => true);
    const manager = Manager.create({
      plugins: [createInertBackendPlugin(), grpcTransportPlugin],
      env: {
        MANAGER_RUN_DIR: runDir,
        MANAGER_STATE_DIR: stateDir,
        MANAGER_GRPC_HOST: '127.0.0.1',
        MANAGER_GRPC_PORT: '0',
        COCOS_JAEGER_TRACE_RATIO: '0',
        MANAGER_QEMU_ENABLE_KVM: 'false',
        MANAGER_MAX_VMS: String(VMS),
        MANAGER_QEMU_DISK_IMG_KERNEL_FILE: kernel,
        MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: rootfs,
        MANAGER_VM_POWERDOWN_TIMEOUT: '5s',
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      },
      overrides: [
        { token: PROCESS_LAUNCHER, useValue: launcher },
        { token: PORT_ALLOCATOR, useValue: ports },
      ],
      logger: pino({ level: 'silent' }),
    });
    await manager.start();
    const grpcTransport = manager.transports().find((t) => t.name === 'grpc');
    const port = Number(grpcTransport?.address().split(':').pop());
    const { ManagerService } = loadManagerProto();
    const client = new ManagerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 2 ** 20 });
    type Unary = (req: object, done: (e: Error | null, r: unknown) => void) => void;
    const call = <T>(method: string, req: object) =>
      new Promise<T>((resolve, reject) => (client as unknown as Record<string, Unary>)[method]?.call(client, req, (e, r) => (e ? reject(e) : resolve(r as T))));
    try {
      // Warm: every lazily loaded part of a create and a removal has run once before the baselines.
      for (let i = 0; i < 5; i++) {
        const vm = await call<{ cvm_id: string }>('CreateVm', {});
        await call('RemoveVm', { cvm_id: vm.cvm_id });
      }
      launcher.processes.splice(0); // the kit's own record of its fakes is not the manager's memory
      const heapBefore = settledHeapMiB();
      const resourcesBefore = resources();
      const fdsBefore = readdirSync('/proc/self/fd').length;

      /** Creates 1,000 VMs, lists and gets them, removes them; the settled heap (MiB over the baseline) at 1,000 and after. */
      const thousandAndBack = async () => {
        const created = await inWaves([...Array(VMS).keys()], 25, () => call<{ cvm_id: string; forwarded_port: string }>('CreateVm', {}));
        const ids = created.map((c) => c.cvm_id);
        expect(new Set(ids).size).toBe(VMS);
        expect(new Set(created.map((c) => c.forwarded_port)).size).toBe(VMS);
        expect(ports.inUse).toBe(VMS);
        // The 1,001st is refused.
        await expect(call('CreateVm', {})).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });

        const listed = (await call<{ vms: WireVm[] }>('ListVms', {})).vms;
        expect(listed).toHaveLength(VMS);
        expect(listed.map((vm) => vm.id).sort()).toEqual([...ids].sort());
        expect(listed.every((vm) => vm.state === 'running' && vm.pid > 0)).toBe(true);
        // Pages walk all 1,000 once, oldest first and ties by id, cut from the table's ordered index.
        const paged: WireVm[] = [];
        let token = '';
        do {
          const page = await call<{ vms: WireVm[]; next_page_token: string }>('ListVms', { page_size: 137, page_token: token });
          expect(page.vms.length).toBeLessThanOrEqual(137);
          paged.push(...page.vms);
          token = page.next_page_token;
        } while (token !== '');
        const position = (vm: WireVm) => `${vm.created_at} ${vm.id}`;
        expect(paged.map(position)).toEqual(listed.map(position).sort());
        const got = await inWaves(ids, 50, (id) => call<WireVm>('GetVm', { id }));
        expect(got.map((vm) => vm.id)).toEqual(ids);
        expect(got.every((vm) => vm.state === 'running')).toBe(true);
        expect(launcher.running).toHaveLength(VMS);
        const at = settledHeapMiB() - heapBefore;

        await inWaves(ids, 25, (id) => call('RemoveVm', { cvm_id: id }));
        expect((await call<{ vms: WireVm[] }>('ListVms', {})).vms).toEqual([]);
        expect(launcher.running).toEqual([]);
        expect(launcher.processes.flatMap((p) => p.connections).filter((qmp) => qmp.connected)).toEqual([]);
        expect(ports.inUse).toBe(0);
        expect(readdirSync(runDir)).toEqual([]);
        expect(readdirSync(stateDir).filter((f) => f !== 'manager.lock')).toEqual([]);
        // No timer, watcher, socket or request per VM left; no descriptor either.
        for (const [kind, n] of resources()) expect({ kind, n }).toEqual({ kind, n: Math.min(n, (resourcesBefore.get(kind) ?? 0) + 3) });
        expect(readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(fdsBefore + 3);
        launcher.processes.splice(0);
        return { at, after: settledHeapMiB() - heapBefore };
      };
      // The heap: the first round may leave some one-time growth (tables grown once, code compiled); a
      // second round that keeps more than a tenth of what 1,000 VMs take (~1 KiB a VM) is a leak.
      const first = await thousandAndBack();
      const second = await thousandAndBack();
      expect(first.at).toBeGreaterThan(5);
      expect(first.after).toBeLessThan(0.5 * first.at);
      expect(second.after - first.after).toBeLessThan(0.1 * first.at);

      // The pool is whole again: the next VM gets the range's first port.
      const again = await call<{ cvm_id: string; forwarded_port: string }>('CreateVm', {});
      expect(again.forwarded_port).toBe('30000');
      await call('RemoveVm', { cvm_id: again.cvm_id });
    } finally {
      client.close();
      await manager.stop({ removeVms: true });
    }
  }, 300_000);
});
