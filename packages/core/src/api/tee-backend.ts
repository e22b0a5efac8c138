import type { QemuCommand } from '../qemu/command.js';
import type { AttestationPolicyDocument } from './attestation-policy.js';
import type { HostFiles, ProbeResult } from './host.js';
import type { VmContext } from './vm-context.js';

/**
 * A backend's on/off switch in configuration (the Go manager's
 * `MANAGER_QEMU_ENABLE_<TEE>`), declared and read by the backend itself.
 */
export interface BackendSwitch {
  /** The environment variable, named in selection errors. */
  readonly env: string;
  /** `true` forces the backend on, `false` rules it out of auto-detection, `null` leaves it to auto-detection. */
  readonly value: boolean | null;
}

/**
 * How a backend takes part in choosing the active one when MANAGER_TEE_BACKEND
 * is empty. Core knows no backend by name: the order and the fallback come
 * from these declarations.
 */
export interface BackendSelection {
  /**
   * Auto-detection order: candidates are tried from the highest priority
   * down. Each loaded backend that declares a selection needs its own value.
   */
  readonly priority: number;
  /**
   * `probe`: auto-detection picks it only when its probe says this host can
   * run it. `fallback`: picked without probing when no backend above it is
   * available, and the one a host-independent preview (`qemu-args`) takes.
   */
  readonly detect: 'probe' | 'fallback';
  /** The backend's own switch in configuration, if it has one. */
  readonly switch?: BackendSwitch;
}

/**
 * A kind of VM isolation (non-confidential, a vendor's TEE, or a third
 * party's). Exactly one is active per manager, chosen by configuration.
 */
export interface TeeBackend {
  /** The name MANAGER_TEE_BACKEND selects it by: lower case, digits and dashes. */
  readonly name: string;
  /**
   * Whether and how auto-detection may pick this backend. Without it, only
   * MANAGER_TEE_BACKEND selects it.
   */
  readonly selection?: BackendSelection;
  /**
   * Whether this host can run the backend. Called once at start for the
   * active backend; also used for auto-detection.
   */
  probe(host: HostFiles): Promise<ProbeResult>;
  /** Start-time checks of the configuration the backend reads (firmware files…). */
  validate(): Promise<void>;
  /** Creates the per-VM files this backend owns, inside `vm.dir`. */
  prepare(vm: VmContext): Promise<void>;
  /** Adds the backend's QEMU elements. */
  contribute(command: QemuCommand, vm: VmContext): void;
  /**
   * Parameters the backend's machine needs on every guest kernel command line
   * (after the configured ones, before `agent.aa_kbc_params`). Computed once
   * per VM at create and persisted with it, so a re-adopted VM keeps its own.
   */
  kernelParameters?(): readonly string[];
  /**
   * Removes whatever `prepare` made outside `vm.dir` (core removes `vm.dir`).
   * Core calls it once per VM from its one teardown — after a create that
   * failed (even in `prepare`), an exit, a removal, or a restart that found
   * the VM dead — so it must cope with a half-done or missing `prepare`.
   */
  cleanup(vm: VmContext): Promise<void>;
  /**
   * What a verifier needs for this VM: the policy document in the upstream
   * JSON shape and the reference measurements (for CoRIM). A backend without
   * a TEE measurement throws FAILED_PRECONDITION.
   */
  attestationPolicy(vm: VmContext): Promise<AttestationPolicyDocument>;
  /**
   * The EDK II release of the firmware this backend boots (CVMInfo's
   * ovmf_version), when it can tell — e.g. from the package that installed
   * the file (`firmwareVersionOf`), read in `validate`. Null or absent: the
   * MANAGER_QEMU_OVMF_VERSION default. An operator's own value always wins.
   */
  firmwareVersion?(): string | null;
}
