import type { Logger } from 'pino';
import type { QmpConnection } from '../api/process-launcher.js';
import type { ConsoleLog } from './console/console-log.js';
import type { LaunchPlan } from './lifecycle/launch-plan.js';
import { STATE_VERSION, type StateStore, type VmStateRecord } from './state/state-store.js';
import { VmStateWriter, type StateRetryBackoff } from './state/state-writer.js';
import type { VmTeardown } from './lifecycle/vm-teardown.js';
import type { SupervisedProcess } from '../api/process-launcher.js';
import { VmState, type VmExit, type VmSummary } from '../api/vm-types.js';
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
  private readonly writer: VmStateWriter;
  /** origin's creation date as the APIs and the record show it (RFC 3339), formatted once: toISOString was most of a ListVms of 1,000. */
  readonly createdAtText: string;
  /** The TTL deadline so formatted, or null. */
  private readonly ttlDeadlineText: string | null;
  private readonly onceTasks = new Map<string, Promise<void>>();
  /** Settles once the create that made this VM has answered or rolled back (at once for a re-adopted VM). */
  private creation: Promise<void> = Promise.resolve();

  constructor(
    readonly plan: LaunchPlan,
    readonly origin: VmOrigin,
    readonly logger: Logger,
    readonly console: ConsoleLog,
    private readonly store: StateStore,
    private readonly events: VmEventBus,
    /** What the VM holds on the host, given back once by whichever path ends it. */
    readonly teardown: VmTeardown,
    backoff?: StateRetryBackoff,
  ) {
    this.createdAtText = origin.createdAt.toISOString();
    this.ttlDeadlineText = origin.ttlDeadline?.toISOString() ?? null;
    this.writer = new VmStateWriter(store, () => this.record(), logger, backoff);
    // A re-adopted VM is known to clients already: its failed writes are retried from the start.
    if (origin.adopted) this.writer.retryFailures();
  }

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

  /** The create that makes this VM: it settles `until` once it answered or rolled back. */
  creating(until: Promise<void>): void {
    this.creation = until;
  }

  /** Resolves once the VM's create has answered or rolled back: nothing may tear the VM down under it. */
  created(): Promise<void> {
    return this.creation;
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

  /** Re-adoption: the VM is in the state its record says, and the record is what its file holds (an unchanged one is not written again). */
  savedAs(record: VmStateRecord): void {
    this.current = record.state;
    this.writer.loadedAs(record);
  }

  /** Queues a write of the current record; writes happen in order, none after `forget`. */
  persist(): void {
    this.writer.save();
  }

  /** Writes the record as it will be in `state` ahead, so that reaching it costs only a rename (the create's Running record, while QEMU starts). */
  prepareState(state: VmState): void {
    this.writer.prepare({ ...this.record(), state });
  }

  /** Resolves once the latest state is on disk; rejects with STATE_DISK_FULL / STATE_WRITE_FAILED when it could not be written. */
  durable(): Promise<void> {
    return this.writer.durable();
  }

  /** The client knows the VM now: a failed state write is retried (and shown) from here on, not the create's failure. */
  announced(): void {
    this.writer.retryFailures();
  }

  /** Resolves once every queued write was tried (one waiting to be retried is tried now); never rejects. */
  flushed(): Promise<void> {
    return this.writer.flushed();
  }

  /** Stops writing the record (the manager leaves the VM to the next one), after the write under way. */
  stopPersisting(): Promise<void> {
    return this.writer.close();
  }

  /** Stops persisting and deletes the state file. */
  async forget(): Promise<void> {
    await this.writer.close();
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
      createdAt: this.createdAtText,
      ttlDeadline: this.ttlDeadlineText,
      exit: this.ended,
      guestStatus: live ? this.guestStatus : null,
      adopted: origin.adopted,
      // Held while the VM is active; a stopped or failed VM has given its devices back.
      devices: this.active ? plan.devices.map((d) => d.assignment) : [],
      stateWriteError: this.writer.problem(),
    };
  }

  private record(): VmStateRecord {
    const { plan } = this;
    return {
      version: STATE_VERSION,
      id: this.id,
      state: this.current,
      pid: this.proc?.pid ?? null,
      pidStartTime: this.proc?.startTime ?? null,
      hostPort: plan.context.hostPort,
      backend: plan.backend.name,
      boot: plan.boot.name,
      createdAt: this.createdAtText,
      ttlDeadline: this.ttlDeadlineText,
      kernelCommandLine: plan.context.kernelCommandLine,
      exit: this.ended,
      devices: plan.devices.map((d) => d.assignment),
    };
  }
}
