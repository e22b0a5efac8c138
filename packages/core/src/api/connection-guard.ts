/** Both ends of an accepted TCP connection, as the server's socket reports them. */
export interface ConnectionEnds {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
}

/**
 * Why a connection was refused: `vm-origin` when one of our QEMUs holds its
 * peer socket, `peer-unverified` when the peer could not be positively
 * identified (gone, orphaned, changed while we looked).
 */
export type RefusalCause = 'vm-origin' | 'peer-unverified';

/** The verdict on one incoming connection. */
export type ConnectionVerdict =
  { readonly allowed: true } | { readonly allowed: false; readonly cause: RefusalCause; readonly vmId: string | null; readonly reason: string };

/** Refuses connections that come from one of this manager's VMs (CONNECTION_GUARD token). */
export interface ConnectionGuard {
  check(ends: ConnectionEnds): Promise<ConnectionVerdict>;
}
