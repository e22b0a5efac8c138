import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { VmApi } from '../api/vm-api.js';
import { canonicalIp, findLocalPeerSocket, processHoldsSocket, type ConnectionEnds } from './socket-owner.js';

/** The verdict on one incoming connection. */
export type ConnectionVerdict = { readonly allowed: true } | { readonly allowed: false; readonly vmId: string; readonly reason: string };

/** Refuses connections that come from one of this manager's VMs (GUEST_GUARD token). */
export interface ConnectionGuard {
  check(ends: ConnectionEnds): Promise<ConnectionVerdict>;
}

/**
 * A guest reaches the host through QEMU's user-mode network: its
 * connections to 10.0.2.2 (the host's loopback) or to any host address are
 * made by the QEMU process itself. So a connection whose other end is a
 * socket held by one of our QEMU processes comes from a guest, whatever
 * address it arrived on, and is refused before TLS or any handler. A QEMU
 * whose descriptors cannot be read (run as root through sudo while the
 * manager is not) is assumed to hold every local socket of its user: such
 * callers are refused too (fail closed).
 */
export class VmOriginGuard implements ConnectionGuard {
  constructor(
    private readonly vms: Pick<VmApi, 'list'>,
    private readonly logger: Logger,
    private readonly procRoot = '/proc',
  ) {}

  async check(ends: ConnectionEnds): Promise<ConnectionVerdict> {
    const running = this.vms.list().filter((vm) => vm.pid !== null);
    if (running.length === 0) return { allowed: true };
    // A peer address this host does not have is another machine: no socket of ours to look for.
    if (!isHostAddress(ends.remoteAddress)) return { allowed: true };
    const peer = await findLocalPeerSocket(ends, this.procRoot);
    if (!peer) return { allowed: true }; // a remote host's connection: not a guest of ours
    // Every VM's descriptors at once: one after the other, the check would grow with the number of VMs.
    const held = await Promise.all(running.map((vm) => processHoldsSocket(vm.pid as number, peer.inode, this.procRoot)));
    for (const [i, vm] of running.entries()) {
      if (held[i] === 'no') continue;
      const reason =
        held[i] === 'yes'
          ? `the connection comes from VM ${vm.id} (QEMU pid ${vm.pid})`
          : `the connection may come from VM ${vm.id}: QEMU pid ${vm.pid}'s sockets cannot be checked`;
      if (held[i] === 'unknown' && !(await this.sameUserAsQemu(peer.uid, vm.pid as number))) continue;
      this.logger.warn({ vm: vm.id, peer: `${ends.remoteAddress}:${ends.remotePort}` }, `refused a connection: ${reason}`);
      return { allowed: false, vmId: vm.id, reason };
    }
    return { allowed: true };
  }

  private async sameUserAsQemu(uid: number, pid: number): Promise<boolean> {
    const status = await readFile(`${this.procRoot}/${pid}/status`, 'utf8').catch(() => '');
    const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    return real === undefined || Number(real) === uid;
  }
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
