import { afterEach, describe, expect, it } from 'vitest';
import { CREATE_STEPS, emptyCreateVmRequest, ErrorCode, type CreateStep, type FaultStep, type LaunchSpec, type SupervisedProcess } from '@cocos-manager/core';
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

/** Nothing of a VM is left: no directory, no state file, no port, no record, no process. */
async function expectNothingLeft(m: Manager, launcher: FakeLauncher) {
  expect(await dirs.leftovers()).toEqual({ run: [], state: [] });
  expect(m.service.portUsage().inUse).toBe(0);
  expect(m.service.list()).toEqual([]);
  expect(launcher.running).toEqual([]);
}

describe('create transaction (fake launcher)', () => {
  it('creates a running, durable, supervised VM', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    manager = await startFakeManager(dirs, { launcher });
    const vm = await manager.service.create(emptyCreateVmRequest());
    const [qemu] = launcher.processes;
    expect(qemu?.argv).toEqual(expect.arrayContaining(['-name', `cvm-${vm.id}`]));
    expect(manager.service.list()).toMatchObject([{ id: vm.id, state: 'running', pid: qemu?.pid, forwardedPort: vm.forwardedPort }]);
    expect(await dirs.leftovers()).toEqual({ run: [vm.id], state: [`${vm.id}.json`] });
    expect(manager.service.portUsage().inUse).toBe(1);
  });

  it.each(CREATE_STEPS)('a failure after step %s rolls back everything', async (failing: CreateStep) => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const passed: FaultStep[] = [];
    manager = await startFakeManager(dirs, {
      launcher,
      faults: {
        after(step) {
          passed.push(step);
          if (step === failing) throw new Error(`injected failure after ${step}`);
        },
      },
    });
    await expect(manager.service.create(emptyCreateVmRequest())).rejects.toMatchObject({
      code: ErrorCode.Internal,
      message: expect.stringContaining(`injected failure after ${failing}`),
    });
    expect(passed).toEqual(CREATE_STEPS.slice(0, CREATE_STEPS.indexOf(failing) + 1));
    await expectNothingLeft(manager, launcher);
    // A process that was started got SIGKILL, and nothing else was started.
    for (const qemu of launcher.processes) expect(qemu.signals).toEqual(['SIGKILL']);
  });

  it('QEMU that cannot be spawned: FAILED_PRECONDITION naming the step, nothing left', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher().script({ spawnFails: true });
    manager = await startFakeManager(dirs, { launcher });
    await expect(manager.service.create(emptyCreateVmRequest())).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringMatching(/^starting QEMU failed: .*ENOENT/),
    });
    await expectNothingLeft(manager, launcher);
  });

  it('QEMU that exits during start-up: the exit reason, nothing left', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher().script({ qmp: 'silent', exitAfterMs: 30 });
    manager = await startFakeManager(dirs, { launcher });
    await expect(manager.service.create(emptyCreateVmRequest())).rejects.toMatchObject({
      code: ErrorCode.Internal,
      message: "QEMU exited during start-up: QEMU exited with code 1; its last output is in the manager's log",
    });
    await expectNothingLeft(manager, launcher);
  });

  it('QMP that never greets: the start timeout, QEMU killed, nothing left', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher().script({ qmp: 'silent' });
    manager = await startFakeManager(dirs, { launcher, env: { MANAGER_VM_START_TIMEOUT: '300ms' } });
    await expect(manager.service.create(emptyCreateVmRequest())).rejects.toMatchObject({
      message: expect.stringContaining('did not answer on its QMP socket within MANAGER_VM_START_TIMEOUT (300 ms)'),
    });
    expect(launcher.processes[0]?.signals).toEqual(['SIGKILL']);
    await expectNothingLeft(manager, launcher);
  });

  it('MANAGER_VM_START_TIMEOUT is exact: a socket that listens in time but greets after the deadline fails the create', async () => {
    dirs = testDirs();
    // Listening at 380 ms, greeting at 450 ms: a connect begun shortly before the 400 ms deadline must not wait for the greeting.
    const launcher = new FakeLauncher().script({ qmpListensAfterMs: 380, qmpGreetsAfterMs: 450 });
    manager = await startFakeManager(dirs, { launcher, env: { MANAGER_VM_START_TIMEOUT: '400ms' } });
    const began = Date.now();
    await expect(manager.service.create(emptyCreateVmRequest())).rejects.toMatchObject({
      message: expect.stringContaining('did not answer on its QMP socket within MANAGER_VM_START_TIMEOUT (400 ms)'),
    });
    expect(Date.now() - began).toBeGreaterThanOrEqual(400);
    expect(launcher.processes[0]?.signals).toEqual(['SIGKILL']);
    await expectNothingLeft(manager, launcher);
    // The same QEMU greeting before the deadline starts fine.
    launcher.script({ qmpListensAfterMs: 380, qmpGreetsAfterMs: 450 });
    await manager.stop({ removeVms: true });
    manager = await startFakeManager(dirs, { launcher, env: { MANAGER_VM_START_TIMEOUT: '1s' } });
    await manager.service.create(emptyCreateVmRequest());
  });

  it('a backend that fails to prepare: FAILED_PRECONDITION, nothing started, nothing left', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    manager = await startFakeManager(dirs, { launcher, prepare: () => Promise.reject(new Error('firmware missing')) });
    await expect(manager.service.create(emptyCreateVmRequest())).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: expect.stringMatching(/^preparing the .* backend failed: firmware missing$/),
    });
    expect(launcher.processes).toEqual([]);
    await expectNothingLeft(manager, launcher);
  });

  it('a crash after start: failed with its reason, port and files released, slot freed', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    manager = await startFakeManager(dirs, { launcher, env: { MANAGER_MAX_VMS: '1' } });
    const vm = await manager.service.create(emptyCreateVmRequest());
    launcher.processes[0]?.exit({ signal: 'SIGKILL' });
    await expect.poll(() => manager?.service.list()[0]?.state).toBe('failed');
    expect(manager.service.list()[0]?.exit?.reason).toBe('QEMU killed by SIGKILL');
    await expect.poll(() => manager?.service.portUsage().inUse).toBe(0);
    expect((await dirs.leftovers()).run).toEqual([]);
    // The failed VM no longer takes the only slot.
    await manager.service.create(emptyCreateVmRequest());
    await manager.service.remove(vm.id);
  });

  it('a TTL removes the VM at its deadline', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    manager = await startFakeManager(dirs, { launcher });
    await manager.service.create(emptyCreateVmRequest({ ttl: '300ms' }));
    await expect.poll(() => manager?.service.list().length, { timeout: 3000 }).toBe(0);
    expect(launcher.processes[0]?.qmpCommands).toContain('system_powerdown');
    expect(await dirs.leftovers()).toEqual({ run: [], state: [] });
  });

  it('MANAGER_MAX_VMS counts a VM being created once: two creates at a limit of 2, the first held in its QMP wait, both run; a third is refused', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = true;
    manager = await startFakeManager(dirs, {
      launcher,
      env: { MANAGER_MAX_VMS: '2' },
      faults: {
        after(step) {
          // The first create waits here, listed and still reserved.
          if (step === 'qmp-ready' && holding) {
            holding = false;
            return held;
          }
        },
      },
    });
    const first = manager.service.create(emptyCreateVmRequest());
    await expect.poll(() => manager?.service.list()[0]?.state).toBe('starting');
    const second = await manager.service.create(emptyCreateVmRequest());
    release();
    const created = [await first, second];
    expect(manager.service.list().map((vm) => vm.state)).toEqual(['running', 'running']);
    expect(new Set(created.map((vm) => vm.id)).size).toBe(2);
    await expect(manager.service.create(emptyCreateVmRequest())).rejects.toMatchObject({ kind: 'VM_CAPACITY_REACHED' });
  });
});

/** A launcher whose `start` waits until the test opens its gate: a QEMU still being spawned. */
class GatedLauncher extends FakeLauncher {
  private openGate!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.openGate = resolve));
  private called!: () => void;
  /** Resolves once the create asked for a QEMU (the VM is listed by then). */
  readonly startAsked = new Promise<void>((resolve) => (this.called = resolve));

  override async start(spec: LaunchSpec): Promise<SupervisedProcess> {
    this.called();
    await this.gate;
    return super.start(spec);
  }

  release(): void {
    this.openGate();
  }
}

/** Whether `promise` has settled after the event loop ran what was ready (and a timer turn). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  return done;
}

describe('RemoveVm of a VM whose create has not answered yet (listed once prepared)', () => {
  it('while its QEMU is being spawned: the removal waits for the create, then stops that QEMU; nothing is left', async () => {
    dirs = testDirs();
    const launcher = new GatedLauncher();
    const m = (manager = await startFakeManager(dirs, { launcher }));
    const create = m.service.create(emptyCreateVmRequest());
    await launcher.startAsked;
    const [listed] = m.service.list();
    expect(listed).toMatchObject({ state: 'provisioning' });
    const removal = m.service.remove(listed!.id);
    // Torn down under the create, the VM would lose its files and port while its QEMU is started.
    expect(await settled(removal)).toBe(false);
    expect(await dirs.leftovers()).toMatchObject({ run: [listed!.id] });
    launcher.release();
    expect(await create).toMatchObject({ id: listed!.id });
    await removal;
    expect(launcher.processes).toHaveLength(1);
    expect(launcher.processes[0]!.alive).toBe(false);
    await expectNothingLeft(m, launcher);
  });

  it('while QEMU has not greeted on QMP yet: the create answers, then the removal stops QEMU', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher().script({ qmpGreetsAfterMs: 300 });
    const m = (manager = await startFakeManager(dirs, { launcher }));
    const create = m.service.create(emptyCreateVmRequest());
    while (m.service.list()[0]?.state !== 'starting') await new Promise((resolve) => setTimeout(resolve, 5));
    const [listed] = m.service.list();
    const removal = m.service.remove(listed!.id);
    expect(await create).toMatchObject({ id: listed!.id });
    await removal;
    expect(launcher.processes[0]!.alive).toBe(false);
    await expectNothingLeft(m, launcher);
  });

  it('whose create then fails: the removal answers VM_NOT_FOUND and the rollback leaves nothing', async () => {
    dirs = testDirs();
    const launcher = new GatedLauncher().script({ spawnFails: true });
    const m = (manager = await startFakeManager(dirs, { launcher }));
    const create = m.service.create(emptyCreateVmRequest());
    await launcher.startAsked;
    const [listed] = m.service.list();
    const removal = m.service.remove(listed!.id);
    launcher.release();
    await expect(create).rejects.toMatchObject({ kind: 'VM_PREPARE_FAILED' });
    await expect(removal).rejects.toMatchObject({ kind: 'VM_NOT_FOUND', code: ErrorCode.NotFound });
    await expectNothingLeft(m, launcher);
  });
});
