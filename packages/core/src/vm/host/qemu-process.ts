import { createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { execa } from 'execa';
import type { VmExit } from '../../api/vm-types.js';
import { readStartTime } from './process-identity.js';
import { awaitQemuUnderSudo } from './sudo-qemu.js';
import { isSudoArgv, signalProcess, sudoFailureLine } from './sudo-signal.js';
import type { SupervisedProcess } from '../../api/process-launcher.js';
import { ManagerError } from '../../errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads the last `maxLines` lines of a console log (for exit reasons). */
export async function tailLines(file: string, maxLines: number, maxBytes = 16 * 1024): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    return buf
      .toString('utf8')
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '')
      .slice(-maxLines);
  } finally {
    await handle.close();
  }
}

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

/** The console's last lines that explain an exit: QEMU's own warnings (TCG feature notes) left out. */
export async function lastMeaningfulLines(file: string, count = 5): Promise<string[]> {
  const lines = await tailLines(file, 200);
  return lines.filter((l) => !/^qemu-system-[\w-]+: warning:/.test(l)).slice(-count);
}

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
    private readonly consoleLog: string,
    exit: Promise<{ code: number | null; signal: string | null }>,
    private readonly viaSudo: boolean,
  ) {
    this.exited = exit.then(async ({ code, signal }) => {
      // sudo itself killed (SIGKILL cannot be relayed) leaves QEMU running: the VM lasts as long as QEMU.
      while (viaSudo && (await this.qemuAlive())) await sleep(200);
      return this.describeExit(code, signal);
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
    if (viaSudo) pid = (await QemuProcess.findUnderSudo(child, consoleLog, name, () => ended, exit)) ?? pid;
    // Read at once: the recorded start time is what proves identity after a restart.
    const startTime = (await readStartTime(pid)) ?? '';
    return new QemuProcess(child, pid, startTime, consoleLog, exit, viaSudo);
  }

  /**
   * QEMU's pid under sudo. sudo refusing (`-n`: no password prompt, no rule)
   * fails the start with sudo's own line; a QEMU that exited at once is left
   * to the usual exit report (null: the caller keeps sudo's pid).
   */
  private static async findUnderSudo(child: QemuChild, consoleLog: string, name: string, ended: () => boolean, exit: Promise<unknown>): Promise<number | null> {
    const qemu = await awaitQemuUnderSudo(child.pid!, name, ended);
    if (qemu !== null) return qemu;
    if (!ended()) {
      child.kill('SIGTERM');
      await exit;
      throw new ManagerError('QEMU_SPAWN_FAILED', `sudo started no QEMU named ${name} within 10 s`);
    }
    await exit;
    const refusal = sudoFailureLine(await tailLines(consoleLog, 20));
    if (refusal !== null) throw new ManagerError('QEMU_SPAWN_FAILED', `"sudo -n" refused to start QEMU: ${refusal}`);
    return null;
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

  private async describeExit(code: number | null, signal: string | null): Promise<VmExit> {
    const last = await lastMeaningfulLines(this.consoleLog);
    const how = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
    const reason = last.length > 0 ? `QEMU ${how}; last output: ${last.join(' | ')}` : `QEMU ${how}`;
    return { code, signal, reason };
  }
}
