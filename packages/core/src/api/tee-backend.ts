import type { QemuCommand } from '../qemu/command.js';
import type { CvmInfo } from '../vm/types.js';
import type { AttestationPolicyDocument } from './attestation-policy.js';
import type { HostEnvironment, ProbeResult } from './host.js';
import type { VmContext } from './vm-context.js';

/**
 * A kind of VM isolation: `plain`, `sev-snp`, `tdx`, or a third party's.
 * Exactly one is active per manager, chosen by configuration.
 */
export interface TeeBackend {
  readonly name: string;
  /**
   * Whether this host can run the backend. Called once at start for the
   * active backend; also used for auto-detection.
   */
  probe(host: HostEnvironment): Promise<ProbeResult>;
  /** Start-time checks of the configuration the backend reads (firmware files…). */
  validate(): Promise<void>;
  /** Creates the per-VM files this backend owns, inside `vm.dir`. */
  prepare(vm: VmContext): Promise<void>;
  /** Adds the backend's QEMU elements. */
  contribute(command: QemuCommand, vm: VmContext): void;
  /** Removes whatever `prepare` made outside `vm.dir` (core removes `vm.dir`). */
  cleanup(vm: VmContext): Promise<void>;
  /**
   * What a verifier needs for this VM: the policy document in the upstream
   * JSON shape and the reference measurements (for CoRIM). Plain VMs throw
   * FAILED_PRECONDITION.
   */
  attestationPolicy(vm: VmContext): Promise<AttestationPolicyDocument>;
  /** Lets the backend adjust CVM info (e.g. its firmware version). */
  cvmInfo?(vm: VmContext, base: CvmInfo): CvmInfo;
}
