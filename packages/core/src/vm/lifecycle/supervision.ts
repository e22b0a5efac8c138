import type { QmpConnection } from '../../api/process-launcher.js';
import { ConsoleFollower } from '../console/console-follower.js';
import { TtlTimer } from './ttl-timer.js';
import { VmState, type VmExit } from '../../api/vm-types.js';
import type { VmInstance } from '../vm-instance.js';
import type { VmRuntime } from '../vm-runtime.js';
import { ManagerError } from '../../errors.js';

/** QMP events that change what the guest is doing, and the run state each means. */
const GUEST_STATUS_OF: Readonly<Record<string, string>> = { STOP: 'paused', RESUME: 'running', GUEST_PANICKED: 'guest-panicked', SHUTDOWN: 'shutdown' };
/** The QMP events worth a lifecycle event of their own. */
const ANNOUNCED = new Set(['GUEST_PANICKED', 'STOP', 'RESUME']);

interface Watch {
  ttl: TtlTimer | null;
  follower: ConsoleFollower | null;
}

/**
 * Watches running VMs: QMP events, console lines, the TTL deadline, and the
 * exit of QEMU — after which the VM's teardown gives back what it held.
 */
export class Supervision {
  private readonly watches = new Map<string, Watch>();
  /** Failed VMs waiting out MANAGER_FAILED_VM_RETENTION before they are forgotten. */
  private readonly retained = new Map<string, TtlTimer>();

  constructor(
    private readonly rt: VmRuntime,
    /** Removes a VM (TTL expiry asks for it). */
    private readonly remove: (id: string) => Promise<void>,
  ) {}

  /** Supervises a VM whose QEMU is up: exit, QMP events, console, TTL. */
  async begin(vm: VmInstance, consoleFromStart: boolean): Promise<void> {
    const proc = vm.process;
    if (!proc) throw new ManagerError('INTERNAL_ERROR', `VM ${vm.id} has no process to supervise`);
    const watch: Watch = { ttl: null, follower: null };
    this.watches.set(vm.id, watch);
    if (vm.qmp) this.watchQmp(vm, vm.qmp);
    proc.exited.then((exit) => this.onExit(vm, exit)).catch((err: unknown) => vm.logger.error({ err }, 'handling the exit of QEMU failed'));
    // The follower keeps the console under MANAGER_CONSOLE_LOG_SIZE as it reads it: no sweep over idle VMs.
    watch.follower = new ConsoleFollower(vm.plan.layout.consoleLog, (line, cut) => this.rt.events.console(vm.id, line, cut), vm.console);
    await watch.follower.start(consoleFromStart);
  }

  /** Arms the TTL: at the deadline the VM is removed. */
  armTtl(vm: VmInstance): void {
    const deadline = vm.origin.ttlDeadline;
    const watch = this.watches.get(vm.id);
    if (!deadline || !watch) return;
    watch.ttl = new TtlTimer(deadline, () => {
      vm.logger.info({ deadline: deadline.toISOString() }, 'TTL reached; removing the VM');
      this.remove(vm.id).catch((err: unknown) => vm.logger.error({ err }, 'TTL removal failed'));
    });
  }

  /** Stops the TTL and any retention countdown (a removal is under way). */
  cancelTtl(vm: VmInstance): void {
    this.watches.get(vm.id)?.ttl?.cancel();
    this.retained.get(vm.id)?.cancel();
    this.retained.delete(vm.id);
  }

  /** Stops watching without touching QEMU (the manager stops; the next one re-adopts). */
  detach(vm: VmInstance): void {
    const watch = this.watches.get(vm.id);
    watch?.ttl?.cancel();
    watch?.follower?.stop();
    vm.qmp?.close();
    this.watches.delete(vm.id);
  }

  /**
   * A failed VM stays visible (state, exit reason, console) for
   * MANAGER_FAILED_VM_RETENTION, then is removed as RemoveVm would; 0s keeps
   * it until a client removes it.
   */
  forgetLater(vm: VmInstance): void {
    const afterMs = this.rt.settings.manager.failedVmRetention;
    if (afterMs <= 0 || this.retained.has(vm.id)) return;
    const timer = new TtlTimer(new Date(Date.now() + afterMs), () => {
      this.retained.delete(vm.id);
      if (this.rt.table.find(vm.id) !== vm) return; // removed meanwhile
      vm.logger.info({ retentionMs: afterMs }, 'forgetting the failed VM (MANAGER_FAILED_VM_RETENTION)');
      this.remove(vm.id).catch((err: unknown) => vm.logger.error({ err }, 'forgetting the failed VM failed'));
    });
    this.retained.set(vm.id, timer);
  }

  /** Cancels every pending retention (the manager stops; the next one starts its own). */
  stopRetention(): void {
    for (const timer of this.retained.values()) timer.cancel();
    this.retained.clear();
  }

  watchQmp(vm: VmInstance, qmp: QmpConnection): void {
    qmp.on('event', (event) => {
      // The guest's driver set up the NIC: the evidence the stop ladder needs to send a power-down.
      if (event.event === 'NIC_RX_FILTER_CHANGED' && !vm.guestAlive) {
        vm.guestAlive = true;
        vm.logger.info('the guest configured its NIC: it can act on an ACPI power-down');
      }
      const next = event.event === 'POWERDOWN' ? (vm.guestStatus ?? 'running') : GUEST_STATUS_OF[event.event];
      if (next === undefined) return;
      vm.guestStatus = next;
      vm.logger.info({ qmpEvent: event.event, data: event.data }, 'QEMU event');
      if (ANNOUNCED.has(event.event)) this.rt.events.lifecycle(vm.id, vm.state, null, `guest ${next}`);
    });
  }

  private async onExit(vm: VmInstance, exit: VmExit): Promise<void> {
    const watch = this.watches.get(vm.id);
    // Detached: a rolled-back create (which cleans up itself) or a manager leaving its VMs.
    if (!watch) return;
    await watch.follower?.poll().catch(() => undefined); // the last lines before the exit
    watch.follower?.stop();
    watch.ttl?.cancel();
    this.watches.delete(vm.id);
    vm.qmp?.close();
    if (vm.state === VmState.Stopping) {
      vm.transition(VmState.Stopped, exit.reason, exit);
    } else {
      vm.logger.warn({ exit }, 'QEMU exited unexpectedly');
      vm.transition(VmState.Failed, exit.reason, exit);
      this.forgetLater(vm);
    }
    // Its port, devices, boot media and files: the VM's one teardown.
    await vm.teardown.run('QEMU exited');
  }
}
