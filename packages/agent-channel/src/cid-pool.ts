import { ManagerError } from '@cocos-manager/core';

/** The first CID a guest may have: 0 is the hypervisor, 1 local loopback, 2 the host. */
export const FIRST_GUEST_CID = 3;
/** The last: 0xffffffff is VMADDR_CID_ANY. */
export const LAST_GUEST_CID = 0xffff_fffe;

/**
 * The vsock context ids (CIDs) of this manager's VMs: each VM gets the lowest
 * free one from `first` up (upstream's rule), held until the VM goes away, so
 * a CID is reused only after its VM is removed. A re-adopted VM claims the CID
 * its state record holds.
 */
export class CidPool {
  private readonly holders = new Map<number, string>();

  constructor(readonly first: number = FIRST_GUEST_CID) {
    if (!Number.isInteger(first) || first < FIRST_GUEST_CID || first > LAST_GUEST_CID) {
      throw new RangeError(`the first guest CID ${first} is not within ${FIRST_GUEST_CID}-${LAST_GUEST_CID}`);
    }
  }

  /** The CID `take` would give now (reserving nothing). */
  next(): number {
    for (let cid = this.first; cid <= LAST_GUEST_CID; cid++) if (!this.holders.has(cid)) return cid;
    throw new ManagerError('DEVICE_POOL_EXHAUSTED', `every guest CID from ${this.first} is held by a VM`);
  }

  /** Gives `vm` the lowest free CID. */
  take(vm: string): number {
    const cid = this.next();
    this.holders.set(cid, vm);
    return cid;
  }

  /** Marks `cid` as `vm`'s (a re-adopted VM); returns the VM that held it before, if another. */
  claim(cid: number, vm: string): string | undefined {
    const other = this.holders.get(cid);
    this.holders.set(cid, vm);
    return other !== undefined && other !== vm ? other : undefined;
  }

  /** Frees `cid` if `vm` holds it (harmless otherwise). */
  release(cid: number, vm: string): void {
    if (this.holders.get(cid) === vm) this.holders.delete(cid);
  }

  /** The VM that holds `cid`, if any: how the channel tells which VM a vsock peer is. */
  holder(cid: number): string | undefined {
    return this.holders.get(cid);
  }

  /** Held CIDs, ascending. */
  held(): number[] {
    return [...this.holders.keys()].sort((a, b) => a - b);
  }
}
