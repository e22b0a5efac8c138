import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { VmSummary } from '../api/vm-types.js';
import type { ConnectionGuard, ConnectionVerdict, RefusalCause } from '../api/connection-guard.js';
import { FreshReads } from './fresh-reads.js';
import { QemuUids, type GuardedVm } from './qemu-uids.js';
import { SocketHolders, type SocketHolder } from './socket-holders.js';

export type { ConnectionGuard, ConnectionVerdict, RefusalCause };
import { canonicalIp, findPeerInTables, processHoldsSocket, readSocketTable, type ConnectionEnds, type LocalPeerSocket } from './socket-owner.js';

/**
 * A guest reaches the host through QEMU's user-mode network: its
 * connections to 10.0.2.2 (the host's loopback) or to any host address are
 * made by the QEMU process itself. So a connection from one of the host's own
 * addresses is served only when its peer socket is found and is positively
 * held by a process that is not one of our QEMUs. The guard fails closed: a
 * guest can write a whole request and reset the connection before we look —
 * QEMU's socket is then gone (or orphaned, inode 0) — so a peer that cannot be
 * found, or that changed while its holders were checked, is refused. A QEMU
 * whose descriptors cannot be read (run as root through sudo while the
 * manager is not) is assumed to hold every local socket of its user. Peers
 * with an address this host does not have are other machines: unaffected.
 *
 * What a connection costs does not grow with the number of VMs (issue 24):
 * a peer socket whose uid none of our QEMUs has is not a QEMU's (QemuUids,
 * one status read per QEMU, ever); otherwise its holder is looked for among
 * the processes that are not QEMUs (SocketHolders) and, found, the connection
 * is served. Only when no such process holds it — a guest's connection, or a
 * holder we may not read — are the QEMUs' descriptors read, all of them, as
 * before: a QEMU opens a new socket for each connection its guest makes, so
 * no set of QEMU sockets taken earlier could stand for them. Nothing is
 * allowed from memory: every holder is read after the connection was accepted.
 */
/** What the guard reads of the VMs: each one's id and QEMU pid (a VmApi is one). */
export interface GuardedVmList {
  list(): ReadonlyArray<Pick<VmSummary, 'id' | 'pid'>>;
}

export class VmOriginGuard implements ConnectionGuard {
  /** Connections accepted together share a read of a socket table (never one older than their accept). */
  private readonly tables: Record<'tcp' | 'tcp6', FreshReads<string>>;
  readonly holders: SocketHolders;
  readonly qemuUids: QemuUids;
  /** The VMs whose QEMU held a refused connection's socket lately, latest first (read: for tests). */
  offenders: readonly GuardedVm[] = [];

  constructor(
    private readonly vms: GuardedVmList,
    private readonly logger: Logger,
    private readonly procRoot = '/proc',
  ) {
    this.tables = { tcp: new FreshReads(() => readSocketTable(procRoot, 'tcp')), tcp6: new FreshReads(() => readSocketTable(procRoot, 'tcp6')) };
    this.holders = new SocketHolders(procRoot);
    this.qemuUids = new QemuUids(procRoot);
  }

  async check(ends: ConnectionEnds): Promise<ConnectionVerdict> {
    // (A socket already reset by its peer reports no address at all.)
    if (ends.remoteAddress === '') return this.unverified(ends, 'its peer address is unknown (reset before it was accepted)');
    if (!isHostAddress(ends.remoteAddress)) return { allowed: true };
    const peer = await this.findPeer(ends);
    if (!peer || !held(peer)) return this.unverified(ends, peer ? 'its peer socket is orphaned (inode 0)' : 'its peer socket is gone');
    const running: GuardedVm[] = [];
    for (const vm of this.vms.list()) if (vm.pid !== null) running.push({ id: vm.id, pid: vm.pid });
    if (running.length === 0) return { allowed: true };
    const suspects = await this.qemuUids.mayHold(running, peer.uid);
    if (suspects.length === 0) return { allowed: true };
    const byPid = new Map(running.map((vm) => [vm.pid, vm]));
    // A client that connected lately; a guest that did (one that floods is refused for one QEMU's descriptors);
    // any process that is not a QEMU; and only then every suspect QEMU.
    const recent = await this.holders.findRecent(peer.inode, byPid);
    if (recent) return this.served(ends, recent, byPid);
    this.offenders = this.offenders.filter((vm) => byPid.get(vm.pid)?.id === vm.id); // a removed VM is forgotten
    const offender = await this.firstHolding(this.offenders, peer.inode, 'sure');
    if (offender) return this.refuseHolder(ends, offender);
    const holder = await this.holders.find(peer.inode, peer.uid, byPid);
    if (holder) return this.served(ends, holder, byPid);
    const suspect = await this.firstHolding(suspects, peer.inode, 'or-unreadable');
    if (suspect) return this.refuseHolder(ends, suspect);
    // A QEMU that closed the socket while its descriptors were read no longer
    // showed it: the socket must still be there, with the same inode, after the scan.
    const again = await this.findPeer(ends);
    if (again?.inode !== peer.inode) return this.unverified(ends, 'its peer socket closed while its holders were checked');
    return { allowed: true };
  }

  /**
   * The peer's socket, from a table read after the caller's accept. Each read
   * costs the kernel a walk of its whole TCP hash (~2.5 ms on a 24 GiB host,
   * however few sockets there are), so an IPv4 peer's table is read first and
   * tcp6 only when it is not there (an IPv6 socket connected to a v4-mapped
   * address is listed in tcp6).
   */
  private async findPeer(ends: ConnectionEnds): Promise<LocalPeerSocket | null> {
    if (isIPv4(canonicalIp(ends.remoteAddress))) {
      const found = findPeerInTables(ends, [await this.tables.tcp.get()]);
      if (found) return found;
    }
    return findPeerInTables(ends, [await this.tables.tcp6.get()]);
  }

  /** Served when `holder` is not a QEMU's child (the VM's side too). */
  private served(ends: ConnectionEnds, holder: SocketHolder, byPid: ReadonlyMap<number, GuardedVm>): ConnectionVerdict {
    const parent = byPid.get(holder.ppid);
    if (!parent) return { allowed: true };
    return this.refuse(ends, parent, `the connection comes from VM ${parent.id} (pid ${holder.pid}, a child of QEMU pid ${parent.pid})`);
  }

  /**
   * The first of `vms` whose QEMU holds socket `inode` (`sure`), or — when
   * `or-unreadable` — whose descriptors cannot be read; null when none does.
   * All at once: one after the other, the check would grow with the number of VMs.
   */
  private async firstHolding(vms: readonly GuardedVm[], inode: string, which: 'sure' | 'or-unreadable'): Promise<{ vm: GuardedVm; sure: boolean } | null> {
    const holds = await Promise.all(vms.map((vm) => processHoldsSocket(vm.pid, inode, this.procRoot)));
    const at = holds.findIndex((h) => h === 'yes' || (h === 'unknown' && which === 'or-unreadable'));
    const vm = vms[at];
    return vm ? { vm, sure: holds[at] === 'yes' } : null;
  }

  private refuseHolder(ends: ConnectionEnds, { vm, sure }: { vm: GuardedVm; sure: boolean }): ConnectionVerdict {
    this.offenders = [vm, ...this.offenders.filter((o) => o.id !== vm.id)].slice(0, RECENT_OFFENDERS);
    const reason = sure
      ? `the connection comes from VM ${vm.id} (QEMU pid ${vm.pid})`
      : `the connection may come from VM ${vm.id}: QEMU pid ${vm.pid}'s sockets cannot be checked`;
    return this.refuse(ends, vm, reason);
  }

  private refuse(ends: ConnectionEnds, vm: GuardedVm, reason: string): ConnectionVerdict {
    this.logger.warn({ vm: vm.id, peer: `${ends.remoteAddress}:${ends.remotePort}` }, `refused a connection: ${reason}`);
    return { allowed: false, cause: 'vm-origin', vmId: vm.id, reason };
  }

  private unverified(ends: ConnectionEnds, why: string): ConnectionVerdict {
    const reason = `the connection's origin cannot be verified: ${why}`;
    this.logger.warn({ peer: `${ends.remoteAddress}:${ends.remotePort}` }, `refused a connection: ${reason}`);
    return { allowed: false, cause: 'peer-unverified', vmId: null, reason };
  }
}

/** How many VMs that sent refused connections are checked first (a guest that floods the manager with connections). */
const RECENT_OFFENDERS = 4;

/** A socket some process still holds: an orphaned one (every descriptor closed) shows inode 0. */
function held(peer: LocalPeerSocket): boolean {
  return /^[1-9]\d*$/.test(peer.inode);
}

/**
 * Whether `address` is one of this host's own (any loopback address, or an
 * interface's). A QEMU process connects from an address of the host it runs
 * on, so a peer with any other address cannot be one of our guests. Read at
 * each check: interfaces come and go.
 */
export function isHostAddress(address: string): boolean {
  const ip = canonicalIp(address);
  if (ip.startsWith('127.') || ip === '0:0:0:0:0:0:0:1') return true;
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (canonicalIp(entry.address.split('%')[0] ?? '') === ip) return true;
  }
  return false;
}
