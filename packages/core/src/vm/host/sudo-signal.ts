import path from 'node:path';
import { execa } from 'execa';
import { ManagerError } from '../../errors.js';

/** Whether an argv starts QEMU through sudo (`sudo -n <qemu> …`). */
export function isSudoArgv(argv: readonly string[]): boolean {
  return argv[0] !== undefined && path.basename(argv[0]) === 'sudo';
}

/** sudo's own failure line (e.g. "sudo: a password is required"), for a one-line error. */
export function sudoFailureLine(lines: readonly string[]): string | null {
  return [...lines].reverse().find((l) => /^sudo: /.test(l)) ?? null;
}

/**
 * Sends `signal` to `pid`; false when the process is gone. A QEMU started
 * through sudo runs as root, and a manager that is not root gets EPERM from
 * kill(2): then the signal goes through `sudo -n kill -<SIG> <pid>` (an argv,
 * never a shell). Signalling QEMU itself matters for SIGKILL: sudo relays
 * SIGTERM/SIGINT/SIGHUP to its command but SIGKILL cannot be relayed, so a
 * SIGKILL aimed at sudo would leave a root QEMU running with no parent.
 */
export async function signalProcess(pid: number, signal: NodeJS.Signals): Promise<boolean> {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code !== 'EPERM') throw err;
  }
  const result = await execa('sudo', ['-n', 'kill', `-${signal.replace(/^SIG/, '')}`, String(pid)], { reject: false, stdin: 'ignore', timeout: 10_000 });
  if (result.exitCode === 0) return true;
  // Gone meanwhile is not an error; anything else (no sudo rule for kill) is.
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const why =
    String(result.stderr ?? '')
      .trim()
      .split('\n')
      .pop() || result.shortMessage;
  throw new ManagerError(
    'QEMU_SIGNAL_FAILED',
    `cannot send ${signal} to root QEMU pid ${pid} through "sudo -n kill": ${why} (the manager's user needs a NOPASSWD sudo rule for kill)`,
  );
}
