import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { VmApi } from '../api/vm-api.js';
import type { ConnectionGuard, ConnectionVerdict, RefusalCause } from '../api/connection-guard.js';
import { FreshReads } from './fresh-reads.js';

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
 */
export class VmOriginGuard implements ConnectionGuard {
  /** Connections accepted together share a read of the socket tables (never one older than their accept). */
  private readonly tables: FreshReads<readonly string[]>;

  constructor(
    private readonly vms: Pick<VmApi, 'list'>,
    private readonly logger: Logger,
    private readonly procRoot = '/proc',
  ) {
    this.tables = new FreshReads(() => readSocketTables(procRoot));
  }

  async check(ends: ConnectionEnds): Promise<ConnectionVerdict> {
    // (A socket already reset by its peer reports no address at all.)
    if (ends.remoteAddress === '') return this.unverified(ends, 'its peer address is unknown (reset before it was accepted)');
    if (!isHostAddress(ends.remoteAddress)) return { allowed: true };
    const peer = findPeerInTables(ends, await this.tables.get());
    if (!peer || !held(peer)) return this.unverified(ends, peer ? 'its peer socket is orphaned (inode 0)' : 'its peer socket is gone');
    const running = this.vms.list().filter((vm) => vm.pid !== null);
    // Every VM's descriptors at once: one after the other, the check would grow with the number of VMs.
    const holds = await Promise.all(running.map((vm) => processHoldsSocket(vm.pid as number, peer.inode, this.procRoot)));
    for (const [i, vm] of running.entries()) {
      if (holds[i] === 'no') continue;
      if (holds[i] === 'unknown' && !(await this.sameUserAsQemu(peer.uid, vm.pid as number))) continue;
      const reason =
        holds[i] === 'yes'
          ? `the connection comes from VM ${vm.id} (QEMU pid ${vm.pid})`
          : `the connection may come from VM ${vm.id}: QEMU pid ${vm.pid}'s sockets cannot be checked`;
      this.logger.warn({ vm: vm.id, peer: `${ends.remoteAddress}:${ends.remotePort}` }, `refused a connection: ${reason}`);
      return { allowed: false, cause: 'vm-origin', vmId: vm.id, reason };
    }
    if (running.length === 0) return { allowed: true };
    // A QEMU that closed the socket while its descriptors were read no longer
    // showed it: the socket must still be there, with the same inode, after the scan.
    const again = findPeerInTables(ends, await this.tables.get());
    if (again?.inode !== peer.inode) return this.unverified(ends, 'its peer socket closed while its holders were checked');
    return { allowed: true };
  }

  private unverified(ends: ConnectionEnds, why: string): ConnectionVerdict {
    const reason = `the connection's origin cannot be verified: ${why}`;
    this.logger.warn({ peer: `${ends.remoteAddress}:${ends.remotePort}` }, `refused a connection: ${reason}`);
    return { allowed: false, cause: 'peer-unverified', vmId: null, reason };
  }

  private async sameUserAsQemu(uid: number, pid: number): Promise<boolean> {
    const status = await readFile(`${this.procRoot}/${pid}/status`, 'utf8').catch(() => '');
    const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    return real === undefined || Number(real) === uid;
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
