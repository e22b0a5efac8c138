import { createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { execa } from 'execa';
import type { VmExit } from './types.js';
import { readStartTime } from './process-identity.js';
import type { SupervisedProcess } from './supervised-process.js';

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
    return buf.toString('utf8').split(/\r?\n/).filter((l) => l.trim() !== '').slice(-maxLines);
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
 */
export class QemuProcess implements SupervisedProcess {
  readonly exited: Promise<VmExit>;

  private constructor(
    private readonly child: QemuChild,
    readonly pid: number,
    readonly startTime: string,
    private readonly consoleLog: string,
    exit: Promise<{ code: number | null; signal: string | null }>,
  ) {
    this.exited = exit.then(({ code, signal }) => this.describeExit(code, signal));
  }

  static async start(argv: readonly string[], consoleLog: string): Promise<QemuProcess> {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('empty QEMU argv');
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
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    // The result promise never rejects (reject: false); consume it anyway.
    void child.catch(() => undefined);
    const spawned = once(child, 'spawn').then(() => true);
    const failed = child.then((result) => result);
    const outcome = await Promise.race([spawned, failed]);
    if (outcome !== true || child.pid === undefined) {
      const result = await failed;
      throw new Error(`cannot start ${file}: ${result.originalMessage || result.shortMessage || 'spawn failed'}`);
    }
    // Read at once: the recorded start time is what proves identity after a restart.
    const startTime = (await readStartTime(child.pid)) ?? '';
    return new QemuProcess(child, child.pid, startTime, consoleLog, exit);
  }

  /** Sends a signal; false when the process is already gone. */
  async kill(signal: NodeJS.Signals): Promise<boolean> {
    return this.child.kill(signal);
  }

  private async describeExit(code: number | null, signal: string | null): Promise<VmExit> {
    const last = await lastMeaningfulLines(this.consoleLog);
    const how = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
    const reason = last.length > 0 ? `QEMU ${how}; last output: ${last.join(' | ')}` : `QEMU ${how}`;
    return { code, signal, reason };
  }
}
