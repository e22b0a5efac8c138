import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { readCommandLine, readStartTime } from './process-identity.js';
import { signalProcess } from './sudo-signal.js';
import { VM_ID } from '../state/state-record.js';
import { guestNameIn } from '../../qemu/elements/supervision.js';

/** A QEMU of ours found in /proc: it carries `-name cvm-<id>` and a path under our run directory. */
export interface FoundQemu {
  readonly pid: number;
  readonly startTime: string;
  readonly id: string;
}

/**
 * The QEMUs started for VMs under `runDir`, whoever started them: a process
 * whose argv has `-name cvm-<uuid>` and mentions `<runDir>/<uuid>/` (its QMP
 * socket, its files). That is how a manager that died between spawning QEMU
 * and recording its pid is cleaned up after.
 */
export async function findQemusOf(runDir: string, procRoot = '/proc'): Promise<FoundQemu[]> {
  const found: FoundQemu[] = [];
  const entries = await readdir(procRoot).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const argv = await readCommandLine(pid, procRoot);
    // A `sudo -n qemu …` wrapper carries the same argv; its QEMU child is the one to stop (sudo then exits).
    if (!argv || path.basename(argv[0] ?? '') === 'sudo') continue;
    const name = guestNameIn(argv);
    const id = name?.startsWith('cvm-') ? name.slice(4) : '';
    if (!VM_ID.test(id)) continue;
    const ownDir = `${path.join(runDir, id)}${path.sep}`;
    if (!argv.some((arg) => arg.includes(ownDir))) continue;
    const startTime = await readStartTime(pid, procRoot);
    if (startTime !== null) found.push({ pid, startTime, id });
  }
  return found;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops a QEMU we did not start (not our child): SIGTERM, then SIGKILL after
 * `graceMs`; each signal only while the pid still has the start time it was
 * found with, so a recycled pid is never hit. Resolves once it is gone.
 */
export async function stopOrphan(qemu: FoundQemu, graceMs: number, logger: Logger, procRoot = '/proc'): Promise<void> {
  const same = async () => (await readStartTime(qemu.pid, procRoot)) === qemu.startTime;
  const signal = async (sig: NodeJS.Signals) => {
    if (!(await same())) return false;
    try {
      // A QEMU run through sudo is root's: a non-root manager signals it through `sudo -n kill`.
      return await signalProcess(qemu.pid, sig);
    } catch (err) {
      logger.warn({ pid: qemu.pid, err: (err as Error).message }, `cannot send ${sig} to an orphaned QEMU`);
      return false;
    }
  };
  for (const [sig, waitMs] of [
    ['SIGTERM', graceMs],
    ['SIGKILL', 5000],
  ] as const) {
    if (!(await signal(sig))) return;
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!(await same())) return;
      await sleep(50);
    }
  }
}
