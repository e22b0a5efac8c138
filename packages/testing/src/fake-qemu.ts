import { EventEmitter } from 'node:events';
import { appendFile } from 'node:fs/promises';
import type { QmpConnection, QmpEvent, SupervisedProcess, VmExit } from '@cocos-manager/core';

/** How one fake QEMU behaves; every field has the well-behaved default. */
export interface FakeQemuScript {
  /** `start` rejects, as when the QEMU binary cannot be spawned. */
  readonly spawnFails?: boolean;
  /** Exits on its own this many ms after start, with code 1 (QEMU dying during start-up, or a crash later). */
  readonly exitAfterMs?: number;
  /** `greets` (default), or `silent`: nothing ever answers on the QMP socket. */
  readonly qmp?: 'greets' | 'silent';
  /**
   * Its QMP socket exists only this many ms after the first connect attempt
   * (a slow start, timed from when the manager starts waiting): before, a
   * connect fails at once (ENOENT).
   */
  readonly qmpListensAfterMs?: number;
  /** QMP greets only this many ms after the first connect attempt; a connect whose timeout ends first fails. */
  readonly qmpGreetsAfterMs?: number;
  /**
   * What the guest does on an ACPI power-down: `power-off` (default), `ignore`
   * (a booted guest that does not handle it), or `panic` (QEMU reports
   * GUEST_PANICKED and keeps running).
   */
  readonly onPowerdown?: 'power-off' | 'ignore' | 'panic';
  /**
   * `booted` (default): the guest's OS configured its NIC (`query-rx-filter`
   * shows it). `booting`: not yet — it hears no power-down until `bootGuest()`.
   */
  readonly guest?: 'booted' | 'booting';
  /** What QEMU does on SIGTERM: `exit` (default) or `ignore`. */
  readonly onSigterm?: 'exit' | 'ignore';
  /** Lines written to the console log at start. */
  readonly console?: readonly string[];
}

/** A QMP connection to a fake QEMU: records commands, powers off on request, closes when QEMU goes. */
export class FakeQmp extends EventEmitter<{ event: [QmpEvent]; closed: [] }> implements QmpConnection {
  private open = true;

  constructor(private readonly qemu: FakeQemu) {
    super();
    qemu.exited.then(
      () => this.close(),
      () => this.close(),
    );
  }

  get connected(): boolean {
    return this.open;
  }

  async execute<T = unknown>(command: string): Promise<T> {
    if (!this.open) throw new Error(`QMP connection closed (${command})`);
    this.qemu.qmpCommands.push(command);
    if (command === 'query-status') return { status: 'running' } as T;
    if (command === 'query-rx-filter') {
      // A virtio-net NIC out of reset is promiscuous; the guest's driver turns that off when it brings the NIC up.
      const up = this.qemu.guestBooted;
      return [{ name: 'net0', promiscuous: !up, 'multicast-table': up ? ['33:33:00:00:00:01'] : [] }] as T;
    }
    if (command === 'system_powerdown' && this.qemu.guestBooted) {
      const how = this.qemu.script.onPowerdown ?? 'power-off';
      if (how === 'power-off') setTimeout(() => this.qemu.exit({ code: 0 }), 5);
      if (how === 'panic') setTimeout(() => this.emitEvent('GUEST_PANICKED', { action: 'pause' }), 5);
    }
    return {} as T;
  }

  /** Sends a QMP event, as QEMU would. */
  emitEvent(event: string, data?: Record<string, unknown>): void {
    this.emit('event', { event, ...(data ? { data } : {}) });
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.emit('closed');
  }
}

/**
 * One fake QEMU process. It "runs" until told to exit (`exit`), until a
 * signal it obeys, or as its script says; `exited` settles once, like a
 * reaped child's exit.
 */
export class FakeQemu implements SupervisedProcess {
  readonly exited: Promise<VmExit>;
  /** Signals received, in order. */
  readonly signals: NodeJS.Signals[] = [];
  /** QMP commands received, in order. */
  readonly qmpCommands: string[] = [];
  /** QMP connections made to it. */
  readonly connections: FakeQmp[] = [];
  private settle!: (exit: VmExit) => void;
  private running = true;
  /** The process that holds this pid now, when it was reused. */
  reusedBy: string | null = null;
  qmpBroken = false;
  /** What it wrote to its console, in order. */
  readonly consoleLines: string[] = [];
  /** Whether the guest's OS is up (configured its NIC): see `FakeQemuScript.guest`. */
  guestBooted: boolean;
  /** When the first QMP connect was tried (Date.now()): the clock of `qmpListensAfterMs` and `qmpGreetsAfterMs`. */
  firstConnectAt: number | null = null;

  constructor(
    readonly pid: number,
    public startTime: string,
    readonly argv: readonly string[],
    readonly name: string,
    readonly consoleLog: string,
    readonly qmpSocket: string,
    readonly script: FakeQemuScript,
  ) {
    this.exited = new Promise((resolve) => (this.settle = resolve));
    this.guestBooted = script.guest !== 'booting';
    if (script.exitAfterMs !== undefined) setTimeout(() => this.exit({ code: 1 }), script.exitAfterMs);
  }

  get alive(): boolean {
    return this.running;
  }

  /** Ends the process (as a crash, `kill -9` from outside, or a clean power-off). */
  exit(how: { code?: number; signal?: NodeJS.Signals } = {}): void {
    if (!this.running) return;
    this.running = false;
    const code = how.signal ? null : (how.code ?? 0);
    const signal = how.signal ?? null;
    const what = signal ? `QEMU killed by ${signal}` : `QEMU exited with code ${code}`;
    // As the real launcher: the console's last lines explain the exit.
    const last = this.consoleLines.slice(-5);
    this.settle({ code, signal, reason: last.length > 0 ? `${what}; last output: ${last.join(' | ')}` : what });
  }

  /** The guest's OS brings its NIC up: QEMU announces NIC_RX_FILTER_CHANGED on every QMP connection. */
  bootGuest(): void {
    this.guestBooted = true;
    for (const qmp of this.connections) qmp.emitEvent('NIC_RX_FILTER_CHANGED', { path: '/machine/peripheral-anon/device[0]/virtio-backend' });
  }

  async kill(signal: NodeJS.Signals): Promise<boolean> {
    if (!this.running) return false;
    this.signals.push(signal);
    if (signal === 'SIGKILL' || (signal === 'SIGTERM' && this.script.onSigterm !== 'ignore')) {
      setTimeout(() => this.exit({ signal }), 1);
    }
    return true;
  }

  async writeConsole(lines: readonly string[]): Promise<void> {
    this.consoleLines.push(...lines);
    await appendFile(this.consoleLog, lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
  }
}
