import { readProcessStatus } from './process-status.js';

/** A running VM as the guard sees it. */
export interface GuardedVm {
  readonly id: string;
  readonly pid: number;
}

/**
 * The uids each VM's QEMU runs with, read once per QEMU (by VM id and pid)
 * and forgotten when the VM is no longer listed. A socket carries the
 * filesystem uid of the process that created it, and a process can only
 * switch among the uids it already has (real, effective, saved, filesystem)
 * — QEMU is started with its final uid (directly or through sudo), so its
 * set never gains one. A peer socket of a uid no QEMU has therefore cannot be
 * a QEMU's, and no descriptor needs reading. A QEMU whose status cannot be
 * read is not remembered: it may hold any socket.
 */
export class QemuUids {
  private readonly known = new Map<string, readonly number[]>();

  constructor(private readonly procRoot = '/proc') {}

  /** The VMs of `running` whose QEMU may hold a socket created by `uid`; forgets the VMs not in `running`. */
  async mayHold(running: readonly GuardedVm[], uid: number): Promise<GuardedVm[]> {
    const keys = running.map(keyOf);
    if (this.known.size > 0) {
      const current = new Set(keys);
      for (const key of this.known.keys()) if (!current.has(key)) this.known.delete(key);
    }
    // Only QEMUs not seen before are read (one status file each); the rest is answered from memory.
    const unread = running.filter((_, i) => !this.known.has(keys[i] as string));
    const unreadable = new Set<string>();
    await Promise.all(
      unread.map(async (vm) => {
        const status = await readProcessStatus(vm.pid, this.procRoot);
        if (status) this.known.set(keyOf(vm), status.uids);
        else unreadable.add(keyOf(vm));
      }),
    );
    return running.filter((_, i) => {
      const key = keys[i] as string;
      return unreadable.has(key) || (this.known.get(key)?.includes(uid) ?? true);
    });
  }

  /** How many QEMUs' uids are remembered (for tests: a removed VM's entry is gone). */
  get size(): number {
    return this.known.size;
  }
}

const keyOf = (vm: GuardedVm) => `${vm.id}\0${vm.pid}`;
