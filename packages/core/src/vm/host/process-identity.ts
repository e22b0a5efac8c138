import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IdentityCheck, ProcessIdentity } from '../../api/process-launcher.js';
import { guestNameIn } from '../../qemu/elements/supervision.js';

export type { IdentityCheck, IdentityMismatch, ProcessIdentity } from '../../api/process-launcher.js';

/**
 * The process's start time, or null when there is no such process. A zombie
 * (exited, not yet reaped) counts as gone unless `includeZombies`.
 */
export async function readStartTime(pid: number, procRoot = '/proc', includeZombies = false): Promise<string | null> {
  let stat: string;
  try {
    stat = await readFile(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return startTimeIn(stat, includeZombies);
}

/**
 * readStartTime without the thread pool: /proc is in memory, a read is a few
 * microseconds, where the promise's open, stat, reads and close cost ~200 µs
 * of CPU between them — what a sweep over a thousand processes pays.
 */
export function readStartTimeSync(pid: number, procRoot = '/proc'): string | null {
  let stat: string;
  try {
    stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return startTimeIn(stat, false);
}

function startTimeIn(stat: string, includeZombies: boolean): string | null {
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (!includeZombies && (fields[0] === 'Z' || fields[0] === 'X')) return null;
  return fields[19] ?? null; // field 22 overall = index 19 after (pid, comm)
}

/**
 * Whether a process `pid` exists (a zombie included), from the kernel alone:
 * kill(pid, 0) sends nothing. EPERM is a process we may not signal (a QEMU
 * run through sudo is root's): it exists.
 */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readCommandLine(pid: number, procRoot = '/proc'): Promise<string[] | null> {
  try {
    const raw = await readFile(`${procRoot}/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((a) => a !== '');
  } catch {
    return null;
  }
}

/**
 * Is `pid` still the process we started for VM `vmName`? The pid must exist,
 * have the recorded start time, and carry `-name <vmName>` in its argv.
 */
export async function checkIdentity(identity: ProcessIdentity, vmName: string, procRoot = '/proc'): Promise<IdentityCheck> {
  const startTime = await readStartTime(identity.pid, procRoot);
  if (startTime === null) return { same: false, reason: 'gone', why: `pid ${identity.pid} is not running` };
  if (startTime !== identity.startTime) {
    return {
      same: false,
      reason: 'reused',
      why: `pid ${identity.pid} now belongs to another process (start time ${startTime}, recorded ${identity.startTime})`,
    };
  }
  const argv = await readCommandLine(identity.pid, procRoot);
  if (!argv || guestNameIn(argv) !== vmName) {
    return { same: false, reason: 'not-ours', why: `pid ${identity.pid} does not carry -name ${vmName}` };
  }
  return { same: true };
}
