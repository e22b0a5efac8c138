import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { VmApi } from '../api/vm-api.js';
import { findLocalPeerSocket, processHoldsSocket, type ConnectionEnds } from './socket-owner.js';

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
    const peer = await findLocalPeerSocket(ends, this.procRoot);
    if (!peer) return { allowed: true }; // a remote host's connection: not a guest of ours
    for (const vm of running) {
      const held = await processHoldsSocket(vm.pid as number, peer.inode, this.procRoot);
      if (held === 'no') continue;
      const reason =
        held === 'yes'
          ? `the connection comes from VM ${vm.id} (QEMU pid ${vm.pid})`
          : `the connection may come from VM ${vm.id}: QEMU pid ${vm.pid}'s sockets cannot be checked`;
      if (held === 'unknown' && !(await this.sameUserAsQemu(peer.uid, vm.pid as number))) continue;
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
