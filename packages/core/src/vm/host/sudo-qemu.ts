import { lstat, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { readCommandLine } from './process-identity.js';
import { ManagerError } from '../../errors.js';
import { guestNameIn } from '../../qemu/elements/supervision.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function parentOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** Whether `pid` descends from `ancestor` within a few generations (sudo may put a monitor process in between). */
async function descendsFrom(pid: number, ancestor: number): Promise<boolean> {
  let current: number | null = pid;
  for (let depth = 0; depth < 3 && current !== null && current > 1; depth++) {
    current = await parentOf(current);
    if (current === ancestor) return true;
  }
  return false;
}

async function carriesName(pid: number, name: string): Promise<boolean> {
  const argv = await readCommandLine(pid);
  if (!argv || argv[0] === undefined || path.basename(argv[0]) === 'sudo') return false;
  return guestNameIn(argv) === name;
}

/** Children of `pid` from /proc/<pid>/task/<pid>/children; null when the kernel lacks that file. */
async function childrenOf(pid: number): Promise<number[] | null> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text
      .split(' ')
      .filter((c) => c !== '')
      .map(Number);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && (await parentOf(pid)) !== null ? null : [];
  }
}

/** The QEMU that `sudoPid` runs: a descendant that carries `-name <name>` and is not sudo itself. */
export async function qemuUnderSudo(sudoPid: number, name: string): Promise<number | null> {
  const children = await childrenOf(sudoPid);
  if (children !== null) {
    // Its child, or a grandchild when sudo runs the command under a pty monitor.
    for (const child of children) {
      if (await carriesName(child, name)) return child;
      for (const grandchild of (await childrenOf(child)) ?? []) if (await carriesName(grandchild, name)) return grandchild;
    }
    return null;
  }
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if ((await carriesName(pid, name)) && (await descendsFrom(pid, sudoPid))) return pid;
  }
  return null;
}

/** Every process (not a sudo) that carries `-name <name>`: a QEMU of that VM, whoever started it. */
export async function qemusNamed(name: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (/^\d+$/.test(entry) && Number(entry) !== process.pid && (await carriesName(Number(entry), name))) found.push(Number(entry));
  }
  return found;
}

/**
 * Waits until sudo has exec'd QEMU and returns QEMU's pid; null if sudo
 * ended first (no rule, a password required) or the wait ran out.
 */
export async function awaitQemuUnderSudo(sudoPid: number, name: string, sudoEnded: () => boolean, timeoutMs = 10_000): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !sudoEnded()) {
    const pid = await qemuUnderSudo(sudoPid, name);
    if (pid !== null) return pid;
    await sleep(10);
  }
  return null;
}

/**
 * Makes a QMP socket that a root QEMU created connectable by this (non-root)
 * manager. QEMU 7.2 creates `-qmp unix:` sockets with its own owner and umask
 * (root, 0755 under sudo's umask) and has no option for the socket's owner or
 * mode; connecting needs write permission on the socket. Passing a
 * pre-opened socket as an fd does not work either: sudo closes every
 * descriptor above 2 (closefrom), and 0-2 are the serial console. So the
 * socket is handed over once, right after it appears, with
 * `sudo -n chown <uid>:<gid> <socket>`; it stays inside the manager's 0700
 * per-VM directory, so nobody else can reach it anyway. A manager that runs
 * as root, or a socket it already owns, needs nothing.
 */
export async function claimRootSocket(socket: string): Promise<boolean> {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return false;
  const info = await lstat(socket).catch(() => null);
  if (!info?.isSocket() || info.uid !== 0) return false;
  const result = await execa('sudo', ['-n', 'chown', `${uid}:${process.getgid?.() ?? uid}`, socket], { reject: false, stdin: 'ignore', timeout: 10_000 });
  if (result.exitCode !== 0) {
    const why =
      String(result.stderr ?? '')
        .trim()
        .split('\n')
        .pop() || result.shortMessage;
    throw new ManagerError(
      'QEMU_SPAWN_FAILED',
      `cannot take over QEMU's root-owned QMP socket through "sudo -n chown": ${why} (the manager's user needs a NOPASSWD sudo rule for chown)`,
    );
  }
  return true;
}
