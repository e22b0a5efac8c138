import type { QmpConnection } from '../../api/process-launcher.js';
import { ERROR_CATALOGUE, ManagerError } from '../../errors.js';
import { ConsoleLog } from '../console/console-log.js';
import { validateCreateRequest } from '../request-validation.js';
import { Rollback } from './rollback.js';
import type { SupervisedProcess } from '../../api/process-launcher.js';
import type { Supervision } from './supervision.js';
import { VmState, type CreatedVm, type CreateVmRequest } from '../../api/vm-types.js';
import { createVmDir, writeShares } from '../state/vm-files.js';
import { VmTeardown } from './vm-teardown.js';
import { VmInstance } from '../vm-instance.js';
import type { CreateStep } from '../../api/create-faults.js';
import type { VmRuntime } from '../vm-runtime.js';
import { clientSafe } from '../client-message.js';
import { settleAll } from '../settle-all.js';
import { runningHooks, type LaunchPlan } from './launch-plan.js';
import { nodeCrypto } from '../../node-builtins.js';

const { randomUUID } = nodeCrypto;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Longest wait for QEMU's QMP socket to appear between two checks of its exit and the deadline (an appearance wakes it at once). */
const SOCKET_WAIT_MS = 250;

/**
 * Turns a failure in `what` that is not a client's kind of error (no
 * ManagerError, or one of the log's: its text was not written for a client —
 * a tool's output) into VM_PREPARE_FAILED naming the step; host paths are
 * taken out of its text at the end (clientSafe).
 */
async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ManagerError && ERROR_CATALOGUE[err.kind].scope === 'call') throw err;
    throw new ManagerError('VM_PREPARE_FAILED', `${what} failed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Creates one VM as a transaction: prepare (slot, port, files, backend,
 * boot media and devices) → launch (QEMU, until it answers on QMP) → finish (supervised,
 * running, durable). A failure at any step undoes every earlier one, so a
 * failed create leaves no file, port, state record or process behind.
 */
export class CreateTransaction {
  constructor(
    private readonly rt: VmRuntime,
    private readonly supervision: Supervision,
  ) {}

  async run(request: CreateVmRequest): Promise<CreatedVm> {
    const { ttlMs } = validateCreateRequest(request);
    const { rt } = this;
    const backend = rt.backends.current();
    const boot = rt.boots.choose();
    const maxVms = rt.settings.manager.maxVms;
    if (rt.table.slotsInUse() >= maxVms) {
      throw new ManagerError('VM_CAPACITY_REACHED', `MANAGER_MAX_VMS=${maxVms} VMs are already running; remove one first`, { fields: { maxVms } });
    }
    const id = randomUUID();
    rt.table.reserve(id);
    const log = rt.logger.child({ vm: id });
    const rollback = new Rollback();
    const after = (done: CreateStep) => rt.faults.after(done, id);
    let plan: LaunchPlan | null = null;
    let teardown: VmTeardown | null = null;
    // Ends the VM's creation (answered or rolled back): a removal asked for meanwhile runs from then on.
    let settleCreation!: () => void;
    const creation = new Promise<void>((resolve) => (settleCreation = resolve));
    try {
      // Prepare: each thing the VM gets is held by its teardown, which the rollback runs (once, every step on its own).
      const hostPort = await rt.ports.allocate();
      rt.table.reservePort(id, hostPort);
      rollback.add(() => (teardown ? teardown.run('create rolled back') : rt.ports.release(hostPort)));
      plan = rt.planner.plan(id, hostPort, request, backend, boot);
      const { layout, context } = plan;
      const held = new VmTeardown(plan, rt.ports, log);
      teardown = held;
      held.hold('port');
      await after('reserve-port');

      // The VM's record is written from here, beside the preparation below: it must be on disk before QEMU
      // exists (a full state disk fails the create with no QEMU started), not before its files are. The VM
      // joins the table only once prepared.
      const vm = new VmInstance(
        plan,
        { adopted: false, createdAt: new Date(), ttlDeadline: ttlMs === null ? null : new Date(Date.now() + ttlMs) },
        log,
        new ConsoleLog(layout.consoleLog, rt.settings.manager.consoleLogSize),
        rt.store,
        rt.events,
        held,
      );
      vm.creating(creation);
      rollback.add(() => vm.forget());
      vm.persist();

      await rt.tracing.step(
        'vm.prepare-files',
        async () => {
          await createVmDir(layout.dir); // fails on anything already there: only what this create made is removed
          held.hold('files');
          await writeShares(layout, id, request);
        },
        { 'vm.id': id },
      );
      await after('prepare-files');
      // Held before prepare: a prepare that fails half-way is cleaned up too.
      held.hold('backend');
      await rt.tracing.step('vm.prepare-backend', () => step(`preparing the ${backend.name} backend`, () => backend.prepare(context)), {
        'vm.id': id,
        'vm.backend': backend.name,
      });
      await after('prepare-backend');
      held.hold('boot');
      await rt.tracing.step('vm.provision-boot', () => step(`preparing ${boot.name} boot`, () => boot.prepare(context)), { 'vm.id': id, 'vm.boot': boot.name });
      await after('prepare-boot');
      held.hold('devices');
      for (const device of rt.devices) {
        // A device's RESOURCE_EXHAUSTED (every one of its resources taken) reaches the client as is.
        const assignment = await rt.tracing.step('vm.acquire-device', () => step(`acquiring the ${device.name} device`, () => device.acquire(context)), {
          'vm.id': id,
          'vm.device': device.name,
        });
        if (assignment) plan.devices.push({ device, assignment });
      }
      // What the devices gave is in the record before QEMU exists (a restart then gives it back).
      if (plan.devices.length > 0) vm.persist();
      // Listed (and removable) only once it is prepared, as before: a removal never runs beside a prepare.
      rt.table.add(vm);
      rollback.add(() => {
        rt.table.delete(id);
        rt.agents.forget(id);
      });
      const spec = rt.planner.spec(plan);
      // The record of the VM is on disk before its QEMU exists (a full state disk fails the create here, no QEMU started).
      await vm.durable();
      log.info({ argv: spec.argv, port: hostPort, backend: backend.name, boot: boot.name }, 'launching QEMU');

      // Launch.
      const proc = await rt.tracing.step('vm.spawn', () => step('starting QEMU', () => rt.launcher.start(spec)), { 'vm.id': id });
      rollback.add(async () => {
        await proc.kill('SIGKILL');
        await proc.exited;
      });
      vm.attach(proc);
      vm.transition(VmState.Starting, `QEMU pid ${proc.pid} started`);
      // The Running record is this one but for its state: written and fsynced while QEMU starts, renamed into place once QMP greets.
      vm.prepareState(VmState.Running);
      await after('spawn');
      const qmp = await rt.tracing.step('vm.ready', () => this.awaitQmp(proc, spec.qmpSocket), { 'vm.id': id });
      rollback.add(() => qmp.close());
      vm.attachQmp(qmp);
      await after('qmp-ready');

      // Finish: from here on the VM is supervised; a failure still undoes it all. Supervision takes
      // the exit at once (begin's synchronous part); its console follower opens while the Running
      // record is written, so the create waits for the slower of the two, not for both in turn.
      const supervised = this.supervision.begin(vm, true);
      supervised.catch(() => undefined); // awaited below; a rollback before that must not leave it unhandled
      rollback.add(() => this.supervision.detach(vm));
      vm.transition(VmState.Running, `QEMU pid ${proc.pid} is up`);
      runningHooks(plan, log);
      this.supervision.armTtl(vm);
      await after('supervise');
      // Durable before the client hears of it: a restart right after still knows the VM; a write that failed fails the create.
      await settleAll([supervised, vm.durable()]);
      vm.announced();
      return { id, forwardedPort: hostPort };
    } catch (err) {
      await rollback.run(log);
      // The log has the whole story; the client gets the kind and a message without host paths.
      if (err instanceof ManagerError) {
        log.warn({ code: err.code, reason: err.message, cause: (err.cause as Error | undefined)?.message }, 'create failed; rolled back');
        throw clientSafe(err);
      }
      log.error({ err }, 'create failed; rolled back');
      throw clientSafe(new ManagerError('VM_CREATE_FAILED', `creating the VM failed: ${(err as Error).message}`, { cause: err }));
    } finally {
      settleCreation();
      rt.table.unreserve(id);
      // The request's secrets are in the VM's shares now (or gone with the rollback).
      plan?.context.dropRequest();
    }
  }

  /** Waits for QEMU's QMP greeting: QEMU finished starting. Fails if QEMU exits first, or at MANAGER_VM_START_TIMEOUT exactly. */
  private async awaitQmp(proc: SupervisedProcess, socket: string): Promise<QmpConnection> {
    const timeoutMs = this.rt.settings.manager.startTimeout;
    const deadline = Date.now() + timeoutMs;
    let exitReason: string | null = null;
    proc.exited.then(
      (e) => (exitReason = e.reason),
      () => (exitReason = 'unknown'),
    );
    // Its last console lines (paths, firmware messages) go to the log, not to the client.
    const exited = () => {
      if (exitReason === null) return null;
      this.rt.logger.warn({ socket, reason: exitReason }, 'QEMU exited during start-up');
      const how = exitReason.split(';')[0] ?? 'QEMU exited';
      const hint = /host forwarding rule/i.test(exitReason) ? ' (could not set up its host forwarding rule: the port is taken)' : '';
      return new ManagerError('QEMU_EXITED_AT_START', `QEMU exited during start-up: ${how}${hint}; its last output is in the manager's log`);
    };
    // Exact: no connection attempt or handshake runs past the deadline.
    for (let left = timeoutMs; left > 0; left = deadline - Date.now()) {
      const gone = exited();
      if (gone) throw gone;
      if (!(await this.qmpSocketAppears(proc, socket, Math.min(SOCKET_WAIT_MS, left)))) continue;
      try {
        const qmp = await this.rt.launcher.connectQmp(socket, left);
        if (Date.now() <= deadline) return qmp;
        qmp.close(); // a handshake that finished past the deadline (a late timer) does not count
        break;
      } catch {
        await sleep(Math.max(0, Math.min(20, deadline - Date.now())));
      }
    }
    throw exited() ?? new ManagerError('QEMU_START_TIMEOUT', `QEMU did not answer on its QMP socket within MANAGER_VM_START_TIMEOUT (${timeoutMs} ms)`);
  }

  /** Whether QEMU's QMP socket exists yet: waits up to `withinMs` for it, or for QEMU's exit (false). */
  private async qmpSocketAppears(proc: SupervisedProcess, socket: string, withinMs: number): Promise<boolean> {
    const launcher = this.rt.launcher;
    if (!launcher.qmpSocketAppears) return true;
    const exit = proc.exited.then(
      () => false,
      () => false,
    );
    return Promise.race([launcher.qmpSocketAppears(socket, withinMs), exit]);
  }
}
