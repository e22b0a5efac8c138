import { ConsoleLog } from './console-log.js';
import { guestName } from './launch-plan.js';
import type { VmStateRecord } from './state-store.js';
import type { Supervision } from './supervision.js';
import { emptyCreateVmRequest, VmState } from './types.js';
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

  async recoverAll(): Promise<void> {
    const { records, problems } = await this.rt.store.loadAll();
    for (const problem of problems) this.rt.logger.warn({ problem }, 'unreadable VM state file skipped');
    const recovered = await Promise.all(records.map((r) => this.recoverOne(r)));
    // What recovery decided is on disk before the manager serves.
    await Promise.all(recovered.map((vm) => vm?.flushed()));
  }

  private async recoverOne(saved: VmStateRecord): Promise<VmInstance | null> {
    const { rt } = this;
    const log = rt.logger.child({ vm: saved.id });
    const backend = rt.backends.byName(saved.backend) ?? rt.backends.current();
    const boot = rt.boots.byName(saved.boot) ?? rt.boots.choose();
    const plan = rt.planner.plan(saved.id, saved.hostPort, emptyCreateVmRequest(), backend, boot, saved.kernelCommandLine);
    const origin = { adopted: true, createdAt: new Date(saved.createdAt), ttlDeadline: saved.ttlDeadline ? new Date(saved.ttlDeadline) : null };
    const vm = new VmInstance(plan, origin, log, new ConsoleLog(plan.layout.consoleLog, rt.settings.manager.consoleLogSize), rt.store, rt.events);

    const ended = saved.state === VmState.Failed || saved.state === VmState.Stopped;
    const identity = saved.pid !== null && saved.pidStartTime ? { pid: saved.pid, startTime: saved.pidStartTime } : null;
    const name = guestName(saved.id);
    const check = ended || !identity ? null : await rt.launcher.identify(identity, name);

    if (identity && check?.same) {
      rt.ports.claim(saved.hostPort);
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
    await vm.once('release', () => removeVmFiles(plan.layout));
    if (ended) {
      vm.transition(VmState.Failed, saved.exit?.reason ?? 'ended before the manager restarted', saved.exit);
      return vm;
    }
    const why = check && !check.same ? check.why : null;
    const exit = { code: null, signal: null, reason: why ? `QEMU ended while the manager was not running (${why})` : 'QEMU never started' };
    log.warn({ exit }, 'VM found dead on recovery');
    vm.transition(VmState.Failed, exit.reason, exit);
    return vm;
  }
}
