import type { Logger } from 'pino';
import type { QmpConnection } from '../api/process-launcher.js';
import type { ConsoleLog } from './console-log.js';
import type { LaunchPlan } from './launch-plan.js';
import { STATE_VERSION, type StateStore, type VmStateRecord } from './state-store.js';
import type { SupervisedProcess } from './supervised-process.js';
import { VmState, type VmExit, type VmSummary } from './types.js';
import type { VmEventBus } from './vm-events.js';

/** How a VM came to this manager, fixed for its life. */
export interface VmOrigin {
  readonly adopted: boolean;
  readonly createdAt: Date;
  readonly ttlDeadline: Date | null;
}

/**
 * One VM as this manager knows it, and its state machine: `transition` is the
 * one place a state changes, and every change is persisted (in order) and
 * announced. What supervises the VM (timers, followers) lives elsewhere.
 */
export class VmInstance {
  private current: VmState = VmState.Provisioning;
  private proc: SupervisedProcess | null = null;
  private control: QmpConnection | null = null;
  private ended: VmExit | null = null;
  /** The guest's run state as QMP last reported it. */
  guestStatus: string | null = null;
  /** The guest showed its OS runs (it configured its NIC): an ACPI power-down can be acted on. */
  guestAlive = false;
  private persisting: Promise<void> = Promise.resolve();
  private forgotten = false;
  private readonly onceTasks = new Map<string, Promise<void>>();

  constructor(
    readonly plan: LaunchPlan,
    readonly origin: VmOrigin,
    readonly logger: Logger,
    readonly console: ConsoleLog,
    private readonly store: StateStore,
    private readonly events: VmEventBus,
  ) {}

  get id(): string {
    return this.plan.id;
  }
  get state(): VmState {
    return this.current;
  }
  get process(): SupervisedProcess | null {
    return this.proc;
  }
  get qmp(): QmpConnection | null {
    return this.control;
  }
  get exit(): VmExit | null {
    return this.ended;
  }
  /** Neither failed nor stopped: it counts against MANAGER_MAX_VMS. */
  get active(): boolean {
    return this.current !== VmState.Failed && this.current !== VmState.Stopped;
  }

  /** Records the QEMU now running this VM (persisted: the pid is what a restart re-adopts). */
  attach(process: SupervisedProcess, qmp: QmpConnection | null = null): void {
    this.proc = process;
    this.control = qmp;
    this.persist();
  }

  attachQmp(qmp: QmpConnection): void {
    this.control = qmp;
  }

  /** Moves to `state`, persists it and emits the lifecycle event. */
  transition(state: VmState, detail: string, exit?: VmExit | null): void {
    const previous = this.current === state ? null : this.current;
    this.current = state;
    if (exit !== undefined) this.ended = exit;
    this.logger.info({ state, previous }, detail);
    this.persist();
    this.events.lifecycle(this.id, state, previous, detail);
  }

  /** Runs `task` once per `key` (release and removal are asked for from several places). */
  once(key: string, task: () => Promise<void>): Promise<void> {
    let running = this.onceTasks.get(key);
    if (!running) {
      running = task();
      this.onceTasks.set(key, running);
    }
    return running;
  }

  /** Whether `once(key)` has started. */
  started(key: string): boolean {
    return this.onceTasks.has(key);
  }

  /** Queues a write of the current record; writes happen in order, none after `forget`. */
  persist(): void {
    const write = async () => {
      if (this.forgotten) return;
      await this.store.save(this.record());
    };
    this.persisting = this.persisting.then(write).catch((err: unknown) => this.logger.error({ err }, 'writing VM state failed'));
  }

  /** Resolves once every queued write is on disk. */
  flushed(): Promise<void> {
    return this.persisting;
  }

  /** Stops persisting and deletes the state file. */
  async forget(): Promise<void> {
    this.forgotten = true;
    await this.persisting;
    await this.store.remove(this.id);
  }

  summary(): VmSummary {
    const { plan, origin } = this;
    const live = this.ended === null;
    return {
      id: this.id,
      state: this.current,
      forwardedPort: plan.context.hostPort,
      pid: live ? (this.proc?.pid ?? null) : null,
      backend: plan.backend.name,
      boot: plan.boot.name,
      createdAt: origin.createdAt.toISOString(),
      ttlDeadline: origin.ttlDeadline?.toISOString() ?? null,
      exit: this.ended,
      guestStatus: live ? this.guestStatus : null,
      adopted: origin.adopted,
      // Held while the VM is active; a stopped or failed VM has given its devices back.
      devices: this.active ? plan.devices.map((d) => d.assignment) : [],
    };
  }

  private record(): VmStateRecord {
    const { plan, origin } = this;
    return {
      version: STATE_VERSION,
      id: this.id,
      state: this.current,
      pid: this.proc?.pid ?? null,
      pidStartTime: this.proc?.startTime ?? null,
      hostPort: plan.context.hostPort,
      backend: plan.backend.name,
      boot: plan.boot.name,
      createdAt: origin.createdAt.toISOString(),
      ttlDeadline: origin.ttlDeadline?.toISOString() ?? null,
      kernelCommandLine: plan.context.kernelCommandLine,
      exit: this.ended,
      devices: plan.devices.map((d) => d.assignment),
    };
  }
}
