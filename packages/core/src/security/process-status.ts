import { readdir, readFile, readlink } from 'node:fs/promises';

/** What the connection guard reads of a process's /proc/<pid>/status. */
export interface ProcessStatus {
  /** Real, effective, saved and filesystem uid: a socket it creates carries one of them. */
  readonly uids: readonly number[];
  readonly ppid: number;
}

/** The process's uids and parent, or null when it is gone or its status cannot be read. */
export async function readProcessStatus(pid: number, procRoot = '/proc'): Promise<ProcessStatus | null> {
  const text = await readFile(`${procRoot}/${pid}/status`, 'utf8').catch(() => null);
  if (text === null) return null;
  const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(text);
  const ppid = /^PPid:\s+(\d+)/m.exec(text);
  if (!uids || !ppid) return null;
  return { uids: uids.slice(1, 5).map(Number), ppid: Number(ppid[1]) };
}

/**
 * The socket inodes process `pid` holds (from its /proc/<pid>/fd links), or
 * `unknown` when its descriptors cannot be read (another user's process);
 * a process that is gone holds none.
 */
export async function socketInodesOf(pid: number, procRoot = '/proc'): Promise<ReadonlySet<string> | 'unknown'> {
  let fds: string[];
  try {
    fds = await readdir(`${procRoot}/${pid}/fd`);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? new Set() : 'unknown';
  }
  // All links at once: one at a time costs a thread-pool round trip per descriptor.
  const links = await Promise.all(fds.map((fd) => readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => '')));
  const inodes = new Set<string>();
  for (const link of links) if (link.startsWith('socket:[')) inodes.add(link.slice(8, -1));
  return inodes;
}

/** The numeric entries of /proc: every process of the host (thread-group leaders). */
export async function listPids(procRoot = '/proc'): Promise<number[]> {
  const entries = await readdir(procRoot).catch(() => [] as string[]);
  return entries.filter((e) => /^[1-9]\d*$/.test(e)).map(Number);
}
