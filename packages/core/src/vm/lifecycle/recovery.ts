import { ManagerError } from '../../errors.js';
import { ConsoleLog } from '../console/console-log.js';
import { guestName, runningHooks, type AssignedDevice, type LaunchPlan } from './launch-plan.js';
import type { ProcessIdentity } from '../host/process-identity.js';
import { stopProcess } from './stop-ladder.js';
import { findQemusOf, stopOrphan } from '../host/orphan-qemus.js';
import { adoptingView, missingPlugins, refusedView } from './recovery-views.js';
import type { Reconciler } from './reconciler.js';
import type { VmStateRecord } from '../state/state-store.js';
import type { Supervision } from './supervision.js';
import { emptyCreateVmRequest, VmState, type VmSummary } from '../../api/vm-types.js';
import { VmInstance } from '../vm-instance.js';
import type { VmRuntime } from '../vm-runtime.js';
import { VmTeardown } from './vm-teardown.js';

/**
 * Re-adoption after a manager restart. For each saved VM: if its QEMU still
 * runs — the same pid, start time and `-name` — it is supervised again (with
 * or without a working QMP socket); if the pid now belongs to someone else,
 * the VM is torn down and forgotten and that process never touched; if QEMU
 * is gone, the VM is torn down (its disk too) and stays visible as failed
 * with the reason. A VM recorded with a backend or boot strategy this
 * manager does not load is refused: shown failed with why, left as it is.
 */
export class Recovery {
  constructor(
    private readonly rt: VmRuntime,
    private readonly supervision: Supervision,
    private readonly reconciler: Pick<Reconciler, 'sweepDirectories'>,
  ) {}

  private records: readonly VmStateRecord[] = [];
  /** Saved VMs not re-adopted yet, as the API shows them meanwhile ('adopting'). */
  private readonly pending = new Map<string, VmSummary>();
  /** Saved VMs refused (their plugins are not loaded), as the API shows them. */
  private readonly refused = new Map<string, VmSummary>();
  /** QEMUs no record named by pid, stopped at load: by VM id. */
  private stoppedOrphans = new Map<string, number>();

  /**
   * Before serving: reads the saved VMs, stops the QEMUs no record names, and
   * tears down the per-VM directories (and disks) no record owns — what a
   * manager killed in the middle of a create left. `adopt` then re-adopts
   * while the manager serves.
   */
  async load(): Promise<void> {
    const { records, quarantined } = await this.rt.store.loadAll();
    for (const bad of quarantined) {
      this.rt.logger.warn({ file: bad.file, problem: bad.problem, movedTo: bad.movedTo }, 'invalid VM state file moved to quarantine; not acted on');
    }
    this.records = records;
    for (const r of records) this.pending.set(r.id, adoptingView(r));
    this.stoppedOrphans = await this.stopOrphans(records);
    const orphans = await this.reconciler.sweepDirectories(new Set(records.map((r) => r.id)), 'start-up: no saved VM owns it');
    if (orphans.length > 0) this.rt.logger.warn({ directories: orphans }, 'removed per-VM directories no saved VM owns');
  }

  async adopt(): Promise<void> {
    const recovered = await Promise.all(
      this.records.map((r) => this.recoverOne(r, this.stoppedOrphans.get(r.id) ?? null).finally(() => this.pending.delete(r.id))),
    );
    // What recovery decided is on disk before the manager says it started (a write still failing is retried meanwhile).
    await Promise.all(recovered.flatMap((vm) => (vm ? [vm.flushed()] : [])));
  }

  /** A saved VM still being re-adopted, or refused, as list/get show it. */
  adopting(id: string): VmSummary | undefined {
    return this.pending.get(id) ?? this.refused.get(id);
  }

  adoptingAll(): VmSummary[] {
    return [...this.pending.values(), ...this.refused.values()];
  }

  /** FAILED_PRECONDITION for a VM that was refused (its plugins are not loaded) or is still being re-adopted: nothing may be done to it (yet). */
  checkActionable(id: string): void {
    const refused = this.refused.get(id);
    if (refused) throw new ManagerError('VM_NOT_READOPTED', `VM ${id} was ${refused.exit?.reason ?? 'not re-adopted'}`);
    if (this.pending.has(id) && !this.rt.table.find(id)) {
      throw new ManagerError('VM_READOPTING', `VM ${id} is being re-adopted after a manager restart; retry in a moment`);
    }
  }

  /**
   * The crash window: a manager that died after spawning QEMU but before
   * recording its pid leaves a QEMU no record names. Found in /proc by its
   * `-name cvm-<id>` and its run directory, it is stopped — not adopted: its
   * CreateVm never answered, so no client knows the VM. Its files go with the
   * start-up sweep (no record) or its record's teardown. Returns the pids
   * stopped, by VM id.
   */
  private async stopOrphans(records: readonly VmStateRecord[]): Promise<Map<string, number>> {
    const recorded = new Set(records.filter((r) => r.pid !== null).map((r) => `${r.id}:${r.pid}:${r.pidStartTime}`));
    const stopped = new Map<string, number>();
    for (const qemu of await findQemusOf(this.rt.planner.root)) {
      if (recorded.has(`${qemu.id}:${qemu.pid}:${qemu.startTime}`)) continue;
      this.rt.logger.warn({ vm: qemu.id, pid: qemu.pid }, 'stopping a QEMU no state record names (its manager died while creating it)');
      await stopOrphan(qemu, this.rt.settings.manager.stopTimeout, this.rt.logger);
      stopped.set(qemu.id, qemu.pid);
    }
    return stopped;
  }

  private async recoverOne(saved: VmStateRecord, stoppedBefore: number | null): Promise<VmInstance | null> {
    let stoppedOrphan = stoppedBefore;
    const { rt } = this;
    const log = rt.logger.child({ vm: saved.id });
    const backend = rt.backends.byName(saved.backend);
    const boot = rt.boots.byName(saved.boot);
    const ended = saved.state === VmState.Failed || saved.state === VmState.Stopped;
    const identity = saved.pid !== null && saved.pidStartTime ? { pid: saved.pid, startTime: saved.pidStartTime } : null;
    const name = guestName(saved.id);
    const check = ended || !identity ? null : await rt.launcher.identify(identity, name);

    if (!backend || !boot) {
      this.refuse(saved, missingPlugins(saved, { backend: !!backend, boot: !!boot }) ?? '', check?.same === true);
      return null;
    }
    const plan = rt.planner.plan(saved.id, saved.hostPort, emptyCreateVmRequest(), backend, boot, saved.kernelCommandLine);
    const origin = { adopted: true, createdAt: new Date(saved.createdAt), ttlDeadline: saved.ttlDeadline ? new Date(saved.ttlDeadline) : null };
    plan.devices.push(...this.assigned(saved, log));
    const teardown = new VmTeardown(plan, rt.ports, log);
    // What a VM of an earlier manager holds on the host; the port only once claimed here.
    teardown.hold('devices', 'boot', 'backend', 'files');
    const vm = new VmInstance(plan, origin, log, new ConsoleLog(plan.layout.consoleLog, rt.settings.manager.consoleLogSize), rt.store, rt.events, teardown);

    const unfinished = saved.state === VmState.Provisioning || saved.state === VmState.Starting;
    if (identity && check?.same && unfinished) {
      // Its create never answered (it answers once the VM runs, durably): no client knows the VM. Stopped, not adopted.
      await this.stopUnfinished(plan, identity, log);
      stoppedOrphan = identity.pid;
    } else if (identity && check?.same) {
      rt.ports.claim(saved.hostPort);
      teardown.hold('port');
      // The devices it still holds are taken again, so no new VM gets them.
      for (const { device, assignment } of plan.devices) device.reclaim(plan.context, assignment);
      const qmp = await rt.launcher.connectQmp(plan.layout.qmpSocket, 2000).catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, 're-adopted VM has no working QMP socket; stop will use signals');
        return null;
      });
      // In its recorded state from the start: attaching must not write it back as 'provisioning' (a crash
      // right then would have the next manager stop it as a create never finished), nor rewrite it unchanged.
      vm.savedAs(saved);
      vm.attach(rt.launcher.adopt(identity, { consoleLog: plan.layout.consoleLog, name }, qmp), qmp);
      rt.table.add(vm);
      await this.supervision.begin(vm, false);
      vm.transition(VmState.Running, `re-adopted QEMU pid ${identity.pid}`);
      runningHooks(plan, log);
      this.supervision.armTtl(vm);
      return vm;
    }

    if (check && !check.same && check.reason !== 'gone') {
      // The pid is someone else's now: never touch it; tear the VM down (its files, its disk) and forget it.
      log.warn({ reason: check.why }, 'not re-adopting: its pid belongs to another process; forgetting the VM');
      await teardown.run('recovery: its pid belongs to another process');
      await rt.store.remove(saved.id);
      return null;
    }
    // QEMU ended while no manager watched (or the VM had already failed): torn down now, kept visible as failed.
    rt.table.add(vm);
    await teardown.run(ended ? 'recovery: the VM had ended' : 'recovery: QEMU ended while no manager ran');
    if (ended) {
      vm.transition(VmState.Failed, saved.exit?.reason ?? 'ended before the manager restarted', saved.exit);
      this.supervision.forgetLater(vm);
      return vm;
    }
    const why = check && !check.same && stoppedOrphan === null ? check.why : null;
    const reason = why
      ? `QEMU ended while the manager was not running (${why})`
      : stoppedOrphan !== null
        ? `the manager stopped while creating the VM; its QEMU (pid ${stoppedOrphan}) was stopped`
        : 'QEMU never started';
    const exit = { code: null, signal: null, reason };
    log.warn({ exit }, 'VM found dead on recovery');
    vm.transition(VmState.Failed, exit.reason, exit);
    this.supervision.forgetLater(vm);
    return vm;
  }

  /** Stops the QEMU of a create that never finished (SIGTERM, then SIGKILL), through the launcher: only while the pid is still that QEMU. */
  private async stopUnfinished(plan: LaunchPlan, identity: ProcessIdentity, log: VmInstance['logger']): Promise<void> {
    const { rt } = this;
    log.warn({ pid: identity.pid }, 'stopping the QEMU of a create the manager did not finish (no client knows the VM)');
    const qmp = await rt.launcher.connectQmp(plan.layout.qmpSocket, 1000).catch(() => null);
    const proc = rt.launcher.adopt(identity, { consoleLog: plan.layout.consoleLog, name: guestName(plan.id) }, qmp);
    await stopProcess(proc, qmp, { powerdownMs: 0, stopMs: rt.settings.manager.stopTimeout }, log);
    qmp?.close();
  }

  /**
   * A VM recorded with plugins this manager does not load is not re-adopted
   * under others: its QEMU (if it runs) is left alone, its port kept from new
   * VMs, its record and files kept for a manager that loads them.
   */
  private refuse(saved: VmStateRecord, missing: string, alive: boolean): void {
    const pid = alive ? saved.pid : null;
    const qemu = pid !== null ? `its QEMU (pid ${pid}) still runs and was left alone` : 'its QEMU is not running';
    const reason = `not re-adopted: recorded with ${missing}, which this manager does not load; ${qemu}; its record and files are kept for a manager that loads it`;
    if (pid !== null) this.rt.ports.claim(saved.hostPort);
    this.rt.table.protect(saved.id, pid !== null ? saved.hostPort : null);
    this.refused.set(saved.id, refusedView(saved, pid, reason));
    this.rt.logger.error({ vm: saved.id, backend: saved.backend, boot: saved.boot, pid }, `refusing to re-adopt a VM: ${reason}`);
  }

  /** The saved assignments whose device is still loaded (one no plugin provides now is logged and dropped). */
  private assigned(saved: VmStateRecord, log: VmInstance['logger']): AssignedDevice[] {
    return (saved.devices ?? []).flatMap((assignment) => {
      const device = this.rt.devices.find((d) => d.name === assignment.device);
      if (device) return [{ device, assignment }];
      log.warn({ device: assignment.device, assignment: assignment.values }, 'the VM records a device no loaded plugin provides; ignoring it');
      return [];
    });
  }
}
