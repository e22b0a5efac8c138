import type { VmExit } from '../types.js';

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
