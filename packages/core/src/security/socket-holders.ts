import { FreshReads } from './fresh-reads.js';
import { listPids, readProcessStatus, socketInodesOf } from './process-status.js';

/** The pids of our QEMUs (a Set, or a Map keyed by pid). */
export interface QemuPids {
  has(pid: number): boolean;
}

/** A process, not one of our QEMUs, positively seen holding a socket. */
export interface SocketHolder {
  readonly pid: number;
  /** Its parent: a process whose parent is one of our QEMUs is on the VM's side. */
  readonly ppid: number;
}

/** Processes that held a client's socket lately: a client that connects again is usually one of them. */
const RECENT_HOLDERS = 8;

/**
 * Finds which process — not one of our QEMUs — holds a local peer socket, so
 * that a connection from a local client is positively identified without
 * reading the descriptors of every QEMU: the processes that are not QEMUs do
 * not grow with the number of VMs. First the few processes that held a
 * client's socket lately (read again, now), then every process of the
 * socket's uid that is not a QEMU (a fresh read, shared by the connections
 * that wait for it, never one that started before the caller asked). Every
 * answer comes from descriptors read after the caller's connection was
 * accepted: nothing here can vouch for a socket from memory. A holder that
 * cannot be found (another user's process we may not read, or none: the
 * socket was closed) is `null`: the caller then reads the QEMUs' descriptors.
 */
export class SocketHolders {
  private readonly recent: number[] = [];
  /** Per uid: inode → holder, over the processes of that uid that are not QEMUs. */
  private readonly scans = new Map<number, FreshReads<ReadonlyMap<string, SocketHolder>>>();
  private latestQemuPids: QemuPids = new Set();

  constructor(private readonly procRoot = '/proc') {}

  /** The holder of socket `inode` among the processes that held clients' sockets lately and are not in `qemuPids`, or null. */
  async findRecent(inode: string, qemuPids: QemuPids): Promise<SocketHolder | null> {
    for (const pid of [...this.recent]) {
      if (qemuPids.has(pid)) {
        this.forget(pid);
        continue;
      }
      const status = await readProcessStatus(pid, this.procRoot);
      if (!status) {
        this.forget(pid);
        continue;
      }
      const inodes = await socketInodesOf(pid, this.procRoot);
      if (inodes !== 'unknown' && inodes.has(inode)) return this.remember({ pid, ppid: status.ppid });
    }
    return null;
  }

  /** The holder of socket `inode` (created by `uid`) among every process of that uid whose pid is not in `qemuPids`, or null. */
  async find(inode: string, uid: number, qemuPids: QemuPids): Promise<SocketHolder | null> {
    this.latestQemuPids = qemuPids;
    const holder = (await this.scanOf(uid).get()).get(inode);
    // A scan leaves out the QEMUs known when it starts (for speed); whether the holder is one is decided here, now.
    return holder && !qemuPids.has(holder.pid) ? this.remember(holder) : null;
  }

  /** How many processes are remembered as recent holders (for tests). */
  get remembered(): number {
    return this.recent.length;
  }

  private scanOf(uid: number): FreshReads<ReadonlyMap<string, SocketHolder>> {
    let scan = this.scans.get(uid);
    if (!scan) {
      scan = new FreshReads(() => this.holdersOf(uid, this.latestQemuPids));
      this.scans.set(uid, scan);
    }
    return scan;
  }

  /** Every socket held by a process of `uid` that is not in `excluded`. */
  private async holdersOf(uid: number, excluded: QemuPids): Promise<ReadonlyMap<string, SocketHolder>> {
    const holders = new Map<string, SocketHolder>();
    const pids = (await listPids(this.procRoot)).filter((pid) => !excluded.has(pid));
    await Promise.all(
      pids.map(async (pid) => {
        const status = await readProcessStatus(pid, this.procRoot);
        if (!status?.uids.includes(uid)) return;
        const inodes = await socketInodesOf(pid, this.procRoot);
        if (inodes === 'unknown') return;
        for (const inode of inodes) holders.set(inode, { pid, ppid: status.ppid });
      }),
    );
    return holders;
  }

  private remember(holder: SocketHolder): SocketHolder {
    this.forget(holder.pid);
    this.recent.unshift(holder.pid);
    this.recent.length = Math.min(this.recent.length, RECENT_HOLDERS);
    return holder;
  }

  private forget(pid: number): void {
    const at = this.recent.indexOf(pid);
    if (at !== -1) this.recent.splice(at, 1);
  }
}
