export const GIB = 1024 ** 3;

/** A per-VM disk's virtual size: the reference's, rounded up to whole GiB, plus 1 GiB of room. */
export function perVmDiskSize(referenceVirtualSize: number): number {
  return Math.ceil(referenceVirtualSize / GIB) * GIB + GIB;
}
