import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyCreateVmRequest, ErrorCode, ManagerError, type VmContext } from '@cocos-manager/core';
import { type Manager } from '@cocos-manager/core/internal';
import { FakeLauncher } from '../src/fake-launcher.js';
import { startFakeManager, testDirs, type TestDirs } from './fake-manager.js';

let dirs: TestDirs;
let manager: Manager | null = null;
afterEach(async () => {
  await manager?.stop({ removeVms: true });
  manager = null;
  dirs?.remove();
});

const stateFiles = () => readdirSync(dirs.state).filter((n) => n.endsWith('.json')).length;
const secrets = {
  awsSecretAccessKey: 'aws-secret',
  awsAccessKeyId: 'AKIA-test',
  agentCertsToken: 'token',
  agentCvmClientKey: new TextEncoder().encode('-----BEGIN PRIVATE KEY-----'),
};

describe('failed VMs are forgotten (fake launcher)', () => {
  it('after MANAGER_FAILED_VM_RETENTION, as RemoveVm would: listing, state file and files gone', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    manager = await startFakeManager(dirs, { launcher, env: { MANAGER_FAILED_VM_RETENTION: '300ms' } });
    const vm = await manager.service.create(emptyCreateVmRequest());
    launcher.processes[0]?.exit({ code: 1 });
    await expect.poll(() => manager?.service.list()[0]?.state).toBe('failed');
    expect(stateFiles()).toBe(1); // still visible with its reason for a while
    await expect.poll(() => manager?.service.list(), { timeout: 3000 }).toEqual([]);
    await expect(manager.service.get(vm.id)).rejects.toMatchObject({ code: ErrorCode.NotFound });
    expect(await dirs.leftovers()).toEqual({ run: [], state: [] });
  });

  it('0s keeps a failed VM until a client removes it', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    manager = await startFakeManager(dirs, { launcher, env: { MANAGER_FAILED_VM_RETENTION: '0s' } });
    const vm = await manager.service.create(emptyCreateVmRequest());
    launcher.processes[0]?.exit({ code: 1 });
    await expect.poll(() => manager?.service.list()[0]?.state).toBe('failed');
    await new Promise((r) => setTimeout(r, 400));
    expect(manager.service.list()).toMatchObject([{ id: vm.id, state: 'failed' }]);
    await manager.service.remove(vm.id);
    expect(manager.service.list()).toEqual([]);
  });

  it('a VM found dead on restart is forgotten after the retention too', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const first = await startFakeManager(dirs, { launcher });
    await first.service.create(emptyCreateVmRequest());
    await first.stop({ removeVms: false });
    launcher.processes[0]?.exit({ signal: 'SIGKILL' });
    manager = await startFakeManager(dirs, { launcher, env: { MANAGER_FAILED_VM_RETENTION: '200ms' } });
    expect(manager.service.list()).toMatchObject([{ state: 'failed' }]);
    await expect.poll(() => manager?.service.list(), { timeout: 3000 }).toEqual([]);
    expect(stateFiles()).toBe(0);
  });

  it('a create→crash loop of 300 VMs keeps the table, state files and heap bounded', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    manager = await startFakeManager(dirs, { launcher, env: { MANAGER_FAILED_VM_RETENTION: '50ms', MANAGER_MAX_VMS: '4' } });
    const service = manager.service;
    let maxListed = 0;
    let maxStateFiles = 0;
    const heapAt: number[] = [];
    for (let i = 0; i < 300; i++) {
      await service.create(emptyCreateVmRequest(secrets));
      launcher.running[0]?.exit({ code: 1 }); // every VM dies at once after start
      while (service.list().some((v) => v.state !== 'failed')) await new Promise((r) => setTimeout(r, 1));
      maxListed = Math.max(maxListed, service.list().length);
      maxStateFiles = Math.max(maxStateFiles, stateFiles());
      if (i === 50 || i === 299) heapAt.push(process.memoryUsage().heapUsed);
    }
    // Failed VMs hold no slot (MANAGER_MAX_VMS=4 never refused a create) and are forgotten within the retention.
    expect(maxListed).toBeLessThan(60);
    expect(maxStateFiles).toBeLessThan(60);
    await expect.poll(() => service.list().length, { timeout: 3000 }).toBe(0);
    expect(stateFiles()).toBe(0);
    expect(readdirSync(dirs.run)).toEqual([]);
    expect(service.portUsage().inUse).toBe(0);
    // A leak of one VM's worth (plan, console buffers, listeners) per iteration would show here.
    const [early = 0, late = 0] = heapAt;
    expect(late - early).toBeLessThan(40 * 1024 * 1024);
  }, 60_000);
});

describe('no request secrets kept after the create (fake launcher)', () => {
  it('the VM context holds the request while the backend prepares, an empty one once the VM runs or failed', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const contexts: VmContext[] = [];
    const seen: string[] = [];
    manager = await startFakeManager(dirs, {
      launcher,
      prepare: async (vm) => {
        contexts.push(vm);
        seen.push(vm.request.awsSecretAccessKey);
      },
    });
    await manager.service.create(emptyCreateVmRequest(secrets));
    launcher.script({ spawnFails: true });
    await expect(manager.service.create(emptyCreateVmRequest(secrets))).rejects.toThrow(ManagerError);
    expect(seen).toEqual(['aws-secret', 'aws-secret']);
    for (const vm of contexts) {
      expect(vm.request).toEqual(emptyCreateVmRequest());
    }
    // The secrets reached the guest's share all the same.
    expect(readdirSync(path.join(dirs.run, (contexts[0] as VmContext).id, 'env'))).toEqual(['environment']);
  });
});

describe('client-facing errors carry no host paths (fake launcher)', () => {
  it('a plugin failure naming files, and QEMU dying with paths in its console: no run dir or configured path in the message', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const configured = path.join(dirs.dir, 'OVMF_VARS.fd');
    let failWith: Error | null = new Error(`ENOENT: no such file or directory, copyfile '${configured}' -> '${path.join(dirs.run, 'x', 'OVMF_VARS.fd')}'`);
    manager = await startFakeManager(dirs, {
      launcher,
      prepare: async (vm) => {
        if (failWith) throw failWith;
        void vm;
      },
    });
    const messages: string[] = [];
    const failure = async () => {
      const err = await manager!.service.create(emptyCreateVmRequest()).then(
        () => null,
        (e: unknown) => e as ManagerError,
      );
      expect(err).toBeInstanceOf(ManagerError);
      messages.push((err as ManagerError).message);
      return err as ManagerError;
    };

    expect((await failure()).code).toBe(ErrorCode.FailedPrecondition);
    failWith = new ManagerError('ATTESTATION_UNAVAILABLE', `firmware ${configured} is not readable`);
    expect((await failure()).code).toBe(ErrorCode.FailedPrecondition);
    failWith = null;
    launcher.script({
      exitAfterMs: 10,
      qmp: 'silent',
      console: [`qemu-system-x86_64: -drive file=${path.join(dirs.run, 'vm', 'OVMF_VARS.fd')}: Could not open '${configured}'`],
    });
    expect((await failure()).code).toBe(ErrorCode.Internal);
    launcher.script({ spawnFails: true });
    expect((await failure()).code).toBe(ErrorCode.FailedPrecondition);
    // (The real launcher's spawn failure names the binary's path: covered by withoutHostPaths, as above.)

    for (const message of messages) {
      expect(message).not.toContain(dirs.dir);
      expect(message).not.toMatch(/(^|[\s'"=])\/\w/); // no absolute path at all
    }
    expect(messages).toEqual([
      "preparing the inert backend failed: ENOENT: no such file or directory, copyfile '…/OVMF_VARS.fd' -> '…/OVMF_VARS.fd'",
      'firmware …/OVMF_VARS.fd is not readable',
      "QEMU exited during start-up: QEMU exited with code 1; its last output is in the manager's log",
      'starting QEMU failed: cannot start qemu-system-x86_64: spawn ENOENT (fake)',
    ]);
  });

  it('the console tail of a VM that failed later stays readable through get and the console', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    manager = await startFakeManager(dirs, { launcher });
    const vm = await manager.service.create(emptyCreateVmRequest());
    await launcher.processes[0]?.writeConsole(['Kernel panic - not syncing: VFS']);
    launcher.processes[0]?.exit({ code: 1 });
    await expect.poll(() => manager?.service.list()[0]?.state).toBe('failed');
    expect((await manager.service.get(vm.id)).exit?.reason).toBe('QEMU exited with code 1; last output: Kernel panic - not syncing: VFS');
  });
});
