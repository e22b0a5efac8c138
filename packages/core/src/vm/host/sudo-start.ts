import { tailLines } from './qemu-exit.js';
import { awaitQemuUnderSudo } from './sudo-qemu.js';
import { sudoFailureLine } from './sudo-signal.js';
import { ManagerError } from '../../errors.js';

/** The `sudo -n <qemu> …` process just started, as whoever started it sees it. */
export interface StartedSudo {
  readonly pid: number;
  /** Whether sudo has ended (reaped). */
  ended(): boolean;
  /** Settles once sudo has ended. */
  readonly exit: Promise<unknown>;
  /** Asks sudo to go (SIGTERM). */
  terminate(): void;
}

/**
 * QEMU's pid under sudo. sudo refusing (`-n`: no password prompt, no rule)
 * fails the start with sudo's own line; a QEMU that exited at once is left
 * to the usual exit report (null: the caller keeps sudo's pid).
 */
export async function findQemuUnderSudo(sudo: StartedSudo, consoleLog: string, name: string): Promise<number | null> {
  const qemu = await awaitQemuUnderSudo(sudo.pid, name, () => sudo.ended());
  if (qemu !== null) return qemu;
  if (!sudo.ended()) {
    sudo.terminate();
    await sudo.exit;
    throw new ManagerError('QEMU_SPAWN_FAILED', `sudo started no QEMU named ${name} within 10 s`);
  }
  await sudo.exit;
  const refusal = sudoFailureLine(await tailLines(consoleLog, 20));
  if (refusal !== null) throw new ManagerError('QEMU_SPAWN_FAILED', `"sudo -n" refused to start QEMU: ${refusal}`);
  return null;
}
