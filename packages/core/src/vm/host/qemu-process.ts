import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { execa } from 'execa';
import type { VmExit } from '../../api/vm-types.js';
import { readStartTime } from './process-identity.js';
import { describeQemuExit } from './qemu-exit.js';
import { findQemuUnderSudo } from './sudo-start.js';
import { isSudoArgv, signalProcess } from './sudo-signal.js';
import type { SupervisedProcess } from '../../api/process-launcher.js';
import { ManagerError } from '../../errors.js';

export { lastMeaningfulLines, tailLines } from './qemu-exit.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnQemu(file: string, args: readonly string[], output: WriteStream) {
  return execa(file, args, {
    detached: true,
    cleanup: false,
    reject: false,
    stdin: 'ignore',
    // A file stream with an fd is handed to the child as that fd, not piped.
    stdout: output,
    stderr: output,
    buffer: false,
    // Our stop policy decides when to escalate to SIGKILL, not execa's default 5 s.
    forceKillAfterDelay: false,
  });
}
type QemuChild = ReturnType<typeof spawnQemu>;

/**
 * One running QEMU. Started with execa from an argv array, in its own process
 * group (a Ctrl-C aimed at the manager does not hit the VMs), its stdout and
 * stderr (the serial console under -nographic, and QEMU's own messages) going
 * straight to the VM's console log file, so QEMU never depends on the manager
 * reading a pipe. The exit is noticed through the child's exit event; Node
 * reaps the child, so no zombie is left.
 *
 * Through sudo (`sudo -n <qemu> …`) the child is sudo and QEMU its child:
 * `pid` and `startTime` are QEMU's own (what the state records and a later
 * manager re-verifies), signals go to QEMU itself (see signalProcess), and
 * the exit is sudo's, which waits for QEMU and exits with its status.
 */
export class QemuProcess implements SupervisedProcess {
  readonly exited: Promise<VmExit>;

  private constructor(
    private readonly child: QemuChild,
    readonly pid: number,
    readonly startTime: string,
    consoleLog: string,
    exit: Promise<{ code: number | null; signal: string | null }>,
    private readonly viaSudo: boolean,
  ) {
    this.exited = exit.then(async ({ code, signal }) => {
      // sudo itself killed (SIGKILL cannot be relayed) leaves QEMU running: the VM lasts as long as QEMU.
      while (viaSudo && (await this.qemuAlive())) await sleep(200);
      return describeQemuExit(consoleLog, code, signal);
    });
  }

  /** Starts QEMU from `argv`; `name` (its `-name`) finds QEMU under sudo. */
  static async start(argv: readonly string[], consoleLog: string, name: string): Promise<QemuProcess> {
    const [file, ...args] = argv;
    if (file === undefined) throw new ManagerError('QEMU_ARGUMENT_INVALID', 'empty QEMU argv');
    // 0600 before QEMU (or the guest) writes anything to it.
    const output = createWriteStream(consoleLog, { flags: 'a', mode: 0o600 });
    await once(output, 'open');
    let child: QemuChild;
    try {
      child = spawnQemu(file, args, output);
    } finally {
      output.close();
    }
    // Listen before anything else can happen: a QEMU that fails at once exits quickly.
    let ended = false;
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        ended = true;
        resolve({ code, signal });
      });
    });
    // The result promise never rejects (reject: false); consume it anyway.
    void child.catch(() => undefined);
    const spawned = once(child, 'spawn').then(() => true);
    const failed = child.then((result) => result);
    const outcome = await Promise.race([spawned, failed]);
    if (outcome !== true || child.pid === undefined) {
      const result = await failed;
      throw new ManagerError('QEMU_SPAWN_FAILED', `cannot start ${file}: ${result.originalMessage || result.shortMessage || 'spawn failed'}`);
    }
    let pid = child.pid;
    const viaSudo = isSudoArgv(argv);
    if (viaSudo) {
      const sudo = { pid, ended: () => ended, exit, terminate: () => void child.kill('SIGTERM') };
      pid = (await findQemuUnderSudo(sudo, consoleLog, name)) ?? pid;
    }
    // Read at once: the recorded start time is what proves identity after a restart.
    const startTime = (await readStartTime(pid)) ?? '';
    return new QemuProcess(child, pid, startTime, consoleLog, exit, viaSudo);
  }

  private async qemuAlive(): Promise<boolean> {
    return this.startTime !== '' && (await readStartTime(this.pid)) === this.startTime;
  }

  /** Sends a signal; false when the process is already gone. */
  async kill(signal: NodeJS.Signals): Promise<boolean> {
    if (!this.viaSudo) return this.child.kill(signal);
    // QEMU itself, never sudo (a SIGKILL to sudo would orphan QEMU); and only while the pid is still that QEMU.
    if (!(await this.qemuAlive())) return false;
    const sent = await signalProcess(this.pid, signal);
    // sudo stops itself when its command is stopped (job control); it must run again to reap a killed QEMU and exit.
    if (signal === 'SIGKILL') this.child.kill('SIGCONT');
    return sent;
  }
}
