import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { VmApi } from '../api/vm-api.js';
import type { ConnectionGuard, ConnectionVerdict, RefusalCause } from '../api/connection-guard.js';
import { FreshReads } from './fresh-reads.js';
import { QemuUids, type GuardedVm } from './qemu-uids.js';
import { SocketHolders } from './socket-holders.js';

export type { ConnectionGuard, ConnectionVerdict, RefusalCause };
import { canonicalIp, findPeerInTables, processHoldsSocket, readSocketTables, type ConnectionEnds, type LocalPeerSocket } from './socket-owner.js';

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
export class VmOriginGuard implements ConnectionGuard {
  /** Connections accepted together share a read of the socket tables (never one older than their accept). */
  private readonly tables: FreshReads<readonly string[]>;
  readonly holders: SocketHolders;
  readonly qemuUids: QemuUids;

  constructor(
    private readonly vms: Pick<VmApi, 'list'>,
    private readonly logger: Logger,
    private readonly procRoot = '/proc',
  ) {
    this.tables = new FreshReads(() => readSocketTables(procRoot));
    this.holders = new SocketHolders(procRoot);
    this.qemuUids = new QemuUids(procRoot);
  }

  async check(ends: ConnectionEnds): Promise<ConnectionVerdict> {
    // (A socket already reset by its peer reports no address at all.)
    if (ends.remoteAddress === '') return this.unverified(ends, 'its peer address is unknown (reset before it was accepted)');
    if (!isHostAddress(ends.remoteAddress)) return { allowed: true };
    const peer = findPeerInTables(ends, await this.tables.get());
    if (!peer || !held(peer)) return this.unverified(ends, peer ? 'its peer socket is orphaned (inode 0)' : 'its peer socket is gone');
    const running: GuardedVm[] = [];
    for (const vm of this.vms.list()) if (vm.pid !== null) running.push({ id: vm.id, pid: vm.pid });
    if (running.length === 0) return { allowed: true };
    const suspects = await this.qemuUids.mayHold(running, peer.uid);
    if (suspects.length === 0) return { allowed: true };
    const byPid = new Map(running.map((vm) => [vm.pid, vm]));
    const holder = await this.holders.find(peer.inode, peer.uid, byPid);
    if (holder) {
      const parent = byPid.get(holder.ppid);
      if (!parent) return { allowed: true };
      return this.refuse(ends, parent, `the connection comes from VM ${parent.id} (pid ${holder.pid}, a child of QEMU pid ${parent.pid})`);
    }
    // Every suspect's descriptors at once: one after the other, the check would grow with the number of VMs.
    const holds = await Promise.all(suspects.map((vm) => processHoldsSocket(vm.pid, peer.inode, this.procRoot)));
    for (const [i, vm] of suspects.entries()) {
      if (holds[i] === 'no') continue;
      const reason =
        holds[i] === 'yes'
          ? `the connection comes from VM ${vm.id} (QEMU pid ${vm.pid})`
          : `the connection may come from VM ${vm.id}: QEMU pid ${vm.pid}'s sockets cannot be checked`;
      return this.refuse(ends, vm, reason);
    }
    // A QEMU that closed the socket while its descriptors were read no longer
    // showed it: the socket must still be there, with the same inode, after the scan.
    const again = findPeerInTables(ends, await this.tables.get());
    if (again?.inode !== peer.inode) return this.unverified(ends, 'its peer socket closed while its holders were checked');
    return { allowed: true };
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
