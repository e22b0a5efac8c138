import type { AgentMessageEvent } from './agent-messages.js';
import type { AttestationPolicyDocument } from './attestation-policy.js';
import type { AttestationPolicyFormat } from './policy-encoder.js';
import type { HostStatus } from './host-status.js';
import type { ConsoleLine, CreatedVm, CreateVmRequest, CvmInfo, VmEvent, VmPage, VmSummary } from './vm-types.js';

/**
 * What the transports (and the manager's own commands) ask of the VM
 * lifecycle: the service behind the VM_SERVICE token. Implemented in core by
 * a thin facade over the lifecycle's rooms; a test may provide its own.
 */
export interface VmApi {
  /** Creates a VM transactionally; resolves once QEMU is up and the VM is durable. */
  create(request: CreateVmRequest): Promise<CreatedVm>;
  /** Stops a VM (graceful first) and forgets it; resolves once QEMU is gone. */
  remove(id: string): Promise<void>;
  /** One VM, with the guest's run state freshly asked of QEMU. */
  get(id: string): Promise<VmSummary>;
  /** Every VM the manager knows, oldest first. */
  list(): VmSummary[];
  /** One page of them (ListVms' page_size and page_token; transport-kit/vm-pages.ts), building only the page's summaries. */
  listPage(pageSize: number, pageToken: string): VmPage;
  cvmInfo(id: string): CvmInfo;
  /** The attestation policy of a VM as the AttestationPolicy RPC's `info` bytes: MANAGER_ATTESTATION_POLICY_FORMAT's, or `format`. */
  attestationPolicy(id: string, format?: AttestationPolicyFormat): Promise<Uint8Array>;
  attestationPolicyDocument(id: string): Promise<AttestationPolicyDocument>;
  /** The end of a VM's serial console (live and rotated log). */
  consoleOutput(id: string, maxBytes?: number): Promise<string>;
  /** Subscribes to lifecycle events; returns the unsubscribe function. */
  onEvent(listener: (event: VmEvent) => void): () => void;
  /** Subscribes to console lines of every running VM; returns the unsubscribe function. */
  onConsole(listener: (line: ConsoleLine) => void): () => void;
  /** Subscribes to the agent messages of every VM (its agent channel's logs and events); returns the unsubscribe function. */
  onAgent(listener: (event: AgentMessageEvent) => void): () => void;
  /** The latest agent messages of a VM, oldest first (a bounded history: MAX_AGENT_HISTORY). */
  agentMessages(id: string): AgentMessageEvent[];
  /** Host ports of the forwarding range held by VMs, and the range's size. */
  portUsage(): { inUse: number; size: number };
  /** The backend (and its probe), boot strategy, VM slots, port pool and device pools of this host. */
  hostStatus(): Promise<HostStatus>;
}

/** The VM_SERVICE of a manager that is started and stopped by the kernel, and previews for the CLI commands. */
export interface VmLifecycle extends VmApi {
  /** Loads state, starts re-adopting surviving VMs and the background sweeps. Before serving. */
  init(): Promise<void>;
  /** Resolves once every saved VM is re-adopted or found dead (the transports serve meanwhile); rejects if recovery failed. */
  ready(): Promise<void>;
  /** Manager stop: remove every VM, or leave them running for the next manager to re-adopt. */
  shutdown(options: { removeVms: boolean }): Promise<void>;
  /** The argv one VM would be launched with under the current configuration; creates nothing. */
  previewArgv(): Promise<string[]>;
  /** The attestation policy the current configuration gives a VM. */
  previewAttestationPolicy(): Promise<AttestationPolicyDocument>;
  /** Sweeps what no VM owns (directories, state files, ports). */
  reconcile(): Promise<{ directories: string[]; stateFiles: string[]; ports: number[] }>;
}
