import { checkIdentity, readStartTime, type ProcessIdentity } from './process-identity.js';
import type { QmpConnection } from '../../api/process-launcher.js';
import { lastMeaningfulLines } from './qemu-exit.js';
import { signalProcess } from './sudo-signal.js';
import type { SupervisedProcess } from '../../api/process-launcher.js';
import type { VmExit } from '../../api/vm-types.js';
import type { LivenessWatch } from './liveness-watch.js';

/**
 * A QEMU started by an earlier manager and re-adopted after a restart, or one
 * whose spawner died (see spawner/spawned-qemu.ts). It is not our child, so there is no exit event: its end is seen when its QMP
 * socket closes (immediately), with the shared liveness watch as a safety net.
 * Signals are sent only after re-checking that the pid is still that QEMU
 * (QEMU's own pid also in sudo mode: that is what the state records).
 */
export class AdoptedProcess implements SupervisedProcess {
  readonly exited: Promise<VmExit>;
  private unwatch: (() => void) | null = null;

  constructor(
    private readonly identity: ProcessIdentity,
    private readonly vmName: string,
    private readonly consoleLog: string,
    qmp: QmpConnection | null,
    /** The slow safety net shared by every process supervised this way. */
    liveness: LivenessWatch,
    /** How it came to be supervised without being our child (said in its exit reason). */
    private readonly how = 're-adopted after a manager restart',
  ) {
    this.exited = new Promise<void>((resolve) => {
      this.unwatch = liveness.watch(identity, resolve);
      // Its QMP socket closed: QEMU most likely exited, checked at once. A failed check (unreadable /proc) leaves it to the watch.
      qmp?.once('closed', () => {
        checkIdentity(identity, vmName).then(
          (check) => {
            if (!check.same) resolve();
          },
          () => undefined,
        );
      });
    })
      .then(() => this.awaitReaped())
      .then(() => this.describeExit());
  }

  /**
   * Its parent is now init (or a subreaper), which reaps it a moment later;
   * wait for that (bounded), so "gone" means gone, not a zombie.
   */
  private async awaitReaped(): Promise<void> {
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await readStartTime(this.identity.pid, '/proc', true)) === this.identity.startTime) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  get pid(): number {
    return this.identity.pid;
  }

  get startTime(): string {
    return this.identity.startTime;
  }

  async kill(signal: NodeJS.Signals): Promise<boolean> {
    if (!(await checkIdentity(this.identity, this.vmName)).same) return false;
    // A QEMU run through sudo is root's: a non-root manager signals it through `sudo -n kill`.
    return signalProcess(this.identity.pid, signal);
  }

  private async describeExit(): Promise<VmExit> {
    this.unwatch?.();
    const last = await lastMeaningfulLines(this.consoleLog);
    // Its parent was the previous manager (or a spawner that died): the exit status went to whoever reaped it.
    const reason = `QEMU (${this.how}) exited; exit status unknown${last.length > 0 ? `; last output: ${last.join(' | ')}` : ''}`;
    return { code: null, signal: null, reason };
  }
}
