import { ManagerError } from '@cocos-manager/core';

/**
 * The configured GPUs and which VM holds each. A GPU is taken synchronously,
 * so concurrent creates never get the same one (the port pool's rule); the
 * Go manager instead hands its one GPU to every VM.
 */
export class GpuPool {
  /** BDF → the id of the VM holding it. */
  private readonly holders = new Map<string, string>();

  constructor(readonly bdfs: readonly string[]) {}

  get size(): number {
    return this.bdfs.length;
  }

  get inUse(): number {
    return this.holders.size;
  }

  /** The first free GPU, now held by `vmId`; RESOURCE_EXHAUSTED when every one is taken. */
  take(vmId: string): string {
    const free = this.bdfs.find((bdf) => !this.holders.has(bdf));
    if (free === undefined) {
      throw new ManagerError('DEVICE_POOL_EXHAUSTED', `every GPU in MANAGER_QEMU_GPU_BDF (${this.bdfs.length}) is passed through to a VM; remove one first`);
    }
    this.holders.set(free, vmId);
    return free;
  }

  /** Marks `bdf` as held by `vmId` again (a re-adopted VM); returns the previous other holder, if any. */
  claim(bdf: string, vmId: string): string | null {
    const previous = this.holders.get(bdf) ?? null;
    this.holders.set(bdf, vmId);
    return previous === vmId ? null : previous;
  }

  /** Frees `bdf` if `vmId` holds it; anyone else's hold is left alone. */
  release(bdf: string, vmId: string): boolean {
    if (this.holders.get(bdf) !== vmId) return false;
    this.holders.delete(bdf);
    return true;
  }

  /** The GPUs VMs hold now, in the order they were taken (a re-adopted VM's may be one `bdfs` no longer lists). */
  held(): string[] {
    return [...this.holders.keys()];
  }

  holder(bdf: string): string | null {
    return this.holders.get(bdf) ?? null;
  }
}
