/**
 * What a TEE backend asks the launch-measurement provider for. `mode` is the
 * kind of digest in the provider's terms (the modes of @cocos-manager/measure
 * are listed in its README); the files are those the VM launches.
 */
export interface LaunchMeasurementRequest {
  readonly mode: string;
  /** A UEFI firmware image (its metadata says what is measured)… */
  readonly ovmf?: string;
  /** …or an IGVM file. */
  readonly igvm?: string;
  readonly vcpus?: number;
  /** A QEMU CPU model name, or… */
  readonly vcpuType?: string;
  /** …the vCPU's CPUID signature. */
  readonly vcpuSig?: number;
  /** Guest features word of the initial vCPU state. */
  readonly guestFeatures?: bigint;
  /** Direct kernel boot with kernel hashes. */
  readonly kernel?: string;
  readonly initrd?: string;
  readonly append?: string;
  /** IGVM: measure pages without file data as the platform's native zero pages. */
  readonly nativeZero?: boolean;
}

export interface LaunchMeasurement {
  readonly digest: Uint8Array;
  /** Where the VMM's loader and the reference tool would disagree about the file (already logged). */
  readonly warnings: readonly string[];
}

/**
 * Computes launch measurements from the files a VM launches (the
 * LAUNCH_MEASURER token; `@cocos-manager/measure` provides it). A file that
 * cannot be measured is a FAILED_PRECONDITION ManagerError naming the file
 * and the problem. Results are cached per file identity and request.
 */
export interface LaunchMeasurer {
  measure(request: LaunchMeasurementRequest): Promise<LaunchMeasurement>;
}
