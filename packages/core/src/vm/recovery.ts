import { ConsoleLog } from './console-log.js';
import { guestName } from './launch-plan.js';
import type { VmStateRecord } from './state-store.js';
import type { Supervision } from './supervision.js';
import { emptyCreateVmRequest, VmState, type VmSummary } from './types.js';
import { findQemusOf, stopOrphan } from './orphan-qemus.js';
import type { AssignedDevice } from './launch-plan.js';
import { releaseDevices } from './supervision.js';
import { removeVmFiles } from './vm-files.js';
import { VmInstance } from './vm-instance.js';
import type { VmRuntime } from './vm-runtime.js';

/**
 * Re-adoption after a manager restart. For each saved VM: if its QEMU still
 * runs — the same pid, start time and `-name` — it is supervised again (with
 * or without a working QMP socket); if the pid now belongs to someone else,
 * the VM is forgotten and that process never touched; if QEMU is gone, the
 * VM stays visible as failed with the reason.
 */
export class Recovery {
  constructor(
    private readonly rt: VmRuntime,
    private readonly supervision: Supervision,
  ) {}

  private records: readonly VmStateRecord[] = [];
  /** Saved VMs not re-adopted yet, as the API shows them meanwhile ('adopting'). */
  private readonly pending = new Map<string, VmSummary>();

  /** Reads the saved VMs (quick); `adopt` then re-adopts them while the manager already serves. */
  async load(): Promise<void> {
    const { records, quarantined } = await this.rt.store.loadAll();
    for (const bad of quarantined) {
      this.rt.logger.warn({ file: bad.file, problem: bad.problem, movedTo: bad.movedTo }, 'invalid VM state file moved to quarantine; not acted on');
    }
    this.records = records;
    for (const r of records) this.pending.set(r.id, adoptingView(r));
  }

  async adopt(): Promise<void> {
    const records = this.records;
    const stoppedOrphans = await this.stopOrphans(records);
    const recovered = await Promise.all(records.map((r) => this.recoverOne(r, stoppedOrphans.get(r.id) ?? null).finally(() => this.pending.delete(r.id))));
    // What recovery decided is on disk before the manager says it started.
    await Promise.all(recovered.flatMap((vm) => (vm ? [vm.flushed()] : [])));
  }

  /** A saved VM still being re-adopted, as list/get show it. */
  adopting(id: string): VmSummary | undefined {
    return this.pending.get(id);
  }

  adoptingAll(): VmSummary[] {
    return [...this.pending.values()];
  }

  /**
   * The crash window: a manager that died after spawning QEMU but before
   * recording its pid leaves a QEMU no record names. Found in /proc by its
   * `-name cvm-<id>` and its run directory, it is stopped — not adopted: its
   * CreateVm never answered, so no client knows the VM. Returns the pids
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
      // Without a record nothing else would remove its files until the reconciler passes.
      if (!records.some((r) => r.id === qemu.id)) await removeVmFiles(this.rt.planner.layout(qemu.id));
    }
    return stopped;
  }

  private async recoverOne(saved: VmStateRecord, stoppedOrphan: number | null): Promise<VmInstance | null> {
    const { rt } = this;
    const log = rt.logger.child({ vm: saved.id });
    const backend = rt.backends.byName(saved.backend) ?? rt.backends.current();
    const boot = rt.boots.byName(saved.boot) ?? rt.boots.choose();
    const plan = rt.planner.plan(saved.id, saved.hostPort, emptyCreateVmRequest(), backend, boot, saved.kernelCommandLine);
    const origin = { adopted: true, createdAt: new Date(saved.createdAt), ttlDeadline: saved.ttlDeadline ? new Date(saved.ttlDeadline) : null };
    plan.devices.push(...this.assigned(saved, log));
    const vm = new VmInstance(plan, origin, log, new ConsoleLog(plan.layout.consoleLog, rt.settings.manager.consoleLogSize), rt.store, rt.events);

    const ended = saved.state === VmState.Failed || saved.state === VmState.Stopped;
    const identity = saved.pid !== null && saved.pidStartTime ? { pid: saved.pid, startTime: saved.pidStartTime } : null;
    const name = guestName(saved.id);
    const check = ended || !identity ? null : await rt.launcher.identify(identity, name);

    if (identity && check?.same) {
      rt.ports.claim(saved.hostPort);
      // The devices it still holds are taken again, so no new VM gets them.
      for (const { device, assignment } of plan.devices) device.reclaim(plan.context, assignment);
      const qmp = await rt.launcher.connectQmp(plan.layout.qmpSocket, 2000).catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, 're-adopted VM has no working QMP socket; stop will use signals');
        return null;
      });
      vm.attach(rt.launcher.adopt(identity, { consoleLog: plan.layout.consoleLog, name }, qmp), qmp);
      rt.table.add(vm);
      await this.supervision.begin(vm, false);
      vm.transition(VmState.Running, `re-adopted QEMU pid ${identity.pid}`);
      this.supervision.armTtl(vm);
      return vm;
    }

    if (check && !check.same && !check.why.endsWith('is not running')) {
      // The pid is someone else's now: never touch it; forget the VM, clean our files.
      log.warn({ reason: check.why }, 'not re-adopting: its pid belongs to another process; forgetting the VM');
      await removeVmFiles(plan.layout);
      await rt.store.remove(saved.id);
      return null;
    }
    // QEMU ended while no manager watched (or the VM had already failed): keep it visible as failed.
    rt.table.add(vm);
    await vm.once('release', async () => {
      await releaseDevices(vm);
      await removeVmFiles(plan.layout);
    });
    if (ended) {
      vm.transition(VmState.Failed, saved.exit?.reason ?? 'ended before the manager restarted', saved.exit);
      this.supervision.forgetLater(vm);
      return vm;
    }
    const why = check && !check.same ? check.why : null;
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

/** What the API shows of a saved VM before its QEMU was checked: the record, in state 'adopting'. */
function adoptingView(r: VmStateRecord): VmSummary {
  return {
    id: r.id,
    state: VmState.Adopting,
    forwardedPort: r.hostPort,
    pid: r.pid,
    backend: r.backend,
    boot: r.boot,
    createdAt: r.createdAt,
    ttlDeadline: r.ttlDeadline,
    exit: r.exit,
    guestStatus: null,
    adopted: true,
    devices: r.devices ?? [],
  };
}
