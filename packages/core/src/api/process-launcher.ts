import type { VmExit } from './vm-types.js';

/** Who a pid is: enough to tell our QEMU from a process that reused its pid. */
export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: start time in clock ticks after boot. */
  readonly startTime: string;
}

/**
 * Why a recorded pid is not our QEMU any more: `gone` (nothing runs under
 * it), `reused` (another process, by its start time), `not-ours` (the start
 * time matches but the argv does not name the VM). What callers branch on;
 * `why` is for people.
 */
export type IdentityMismatch = 'gone' | 'reused' | 'not-ours';

export type IdentityCheck = { readonly same: true } | { readonly same: false; readonly reason: IdentityMismatch; readonly why: string };

/** An asynchronous event QEMU sent (`SHUTDOWN`, `STOP`, `GUEST_PANICKED`…). */
export interface QmpEvent {
  readonly event: string;
  readonly data?: Record<string, unknown>;
  readonly timestamp?: { seconds: number; microseconds: number };
}

/** A running QEMU the manager supervises: its own child, or one re-adopted after a restart. */
export interface SupervisedProcess {
  readonly pid: number;
  /** /proc start time, recorded so a reused pid is never mistaken for it. */
  readonly startTime: string;
  /** Settles once, when the process is gone (and reaped, for a child). */
  readonly exited: Promise<VmExit>;
  /** Sends a signal; false when the process is already gone. */
  kill(signal: NodeJS.Signals): Promise<boolean>;
}

/** A QMP control connection to one QEMU, as the lifecycle uses it. */
export interface QmpConnection {
  readonly connected: boolean;
  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  on(event: 'event', listener: (event: QmpEvent) => void): unknown;
  once(event: 'closed', listener: () => void): unknown;
  close(): void;
}

/** One QEMU to start: its argv (never a shell string) and the files it is known by. */
export interface LaunchSpec {
  readonly argv: readonly string[];
  /** Where QEMU's stdout/stderr (the serial console) go. */
  readonly consoleLog: string;
  readonly qmpSocket: string;
  /** The `-name` it carries: what identifies it in /proc after a restart. */
  readonly name: string;
}

/**
 * The seam between the VM lifecycle and the operating system: start a QEMU,
 * speak QMP to it, tell whether a recorded pid is still it, adopt one a
 * previous manager started. Core's implementation uses execa, /proc and a
 * unix socket; the test kit's scriptable fake drives every failure branch
 * (spawn failure, early exit, silent QMP, pid reuse) without QEMU.
 */
export interface ProcessLauncher {
  /** Gets ready to start QEMUs (core's starts its QEMU spawner); called once when the manager starts. */
  open?(): Promise<void>;
  /** Releases what `open` took; QEMUs already started run on. Called when the manager stops. */
  close?(): Promise<void>;
  /** Starts QEMU; rejects when it cannot be spawned at all. */
  start(spec: LaunchSpec): Promise<SupervisedProcess>;
  /** Connects to QEMU's QMP socket and negotiates; rejects when nothing greets within `timeoutMs`. */
  connectQmp(socket: string, timeoutMs: number): Promise<QmpConnection>;
  /**
   * Resolves once `socket` exists (at once if it does) or after `withinMs`; whether it exists. A
   * start then connects once the socket is there instead of retrying connectQmp every 20 ms
   * (a launcher without it, such as the test kit's fake, gets the retries).
   */
  qmpSocketAppears?(socket: string, withinMs: number): Promise<boolean>;
  /** Is `identity` still the QEMU named `name` (not gone, not a recycled pid)? */
  identify(identity: ProcessIdentity, name: string): Promise<IdentityCheck>;
  /** Supervises a QEMU a previous manager started (not our child). */
  adopt(identity: ProcessIdentity, spec: Pick<LaunchSpec, 'consoleLog' | 'name'>, qmp: QmpConnection | null): SupervisedProcess;
}
