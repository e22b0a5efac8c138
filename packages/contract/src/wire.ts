/**
 * The messages of `manager.proto` as they travel: field names as in the
 * .proto (snake_case), values as proto-loader decodes them with
 * PROTO_OPTIONS (every field present, bytes as Buffer, 32-bit integers as
 * numbers, an unset message field as null). A sender may leave fields out:
 * they go on the wire as their proto3 defaults.
 *
 * The first seven are the Go Cocos manager's messages, unchanged; the rest
 * belong to our extensions.
 */

/** `google.protobuf.Empty`, RemoveVm's answer. */
export type Empty = Record<string, never>;

export interface CreateReq {
  agent_log_level: string;
  agent_cvm_server_ca_cert: Buffer;
  agent_cvm_client_key: Buffer;
  agent_cvm_client_cert: Buffer;
  agent_cvm_server_url: string;
  agent_cvm_ca_url: string;
  /** Go duration syntax (`90s`, `1h30m`); empty for no TTL. */
  ttl: string;
  agent_certs_token: string;
  aws_access_key_id: string;
  aws_secret_access_key: string;
  aws_endpoint_url: string;
  aws_region: string;
  aa_kbs_params: string;
}

export interface CreateRes {
  /** The host port forwarded to the agent, in decimal. */
  forwarded_port: string;
  cvm_id: string;
}

export interface RemoveReq {
  cvm_id: string;
}

export interface CVMInfoReq {
  id: string;
}

export interface CVMInfoRes {
  id: string;
  ovmf_version: string;
  cpu_num: number;
  cpu_type: string;
  kernel_cmd: string;
  eos_version: string;
}

export interface AttestationPolicyReq {
  id: string;
}

export interface AttestationPolicyRes {
  /** A CoRIM (CBOR), or the JSON policy when so configured. */
  info: Buffer;
  id: string;
}

// --- Extensions ---

export interface ListVmsReq {
  /** At most this many VMs, oldest first (ties by id); 0 with no page_token: every VM. Above 1000, 1000. */
  page_size?: number;
  /** The next_page_token of the previous answer; empty for the first page. */
  page_token?: string;
}

export interface ListVmsRes {
  vms: VmInfo[];
  /** The page_token of the next page; empty after the last (and when every VM was asked for). */
  next_page_token?: string;
}

export interface GetVmReq {
  id: string;
}

export interface VmExit {
  /** -1 when QEMU was killed by a signal. */
  code: number;
  signal: string;
  reason: string;
}

export interface VmInfo {
  id: string;
  /** provisioning, starting, running, stopping, stopped or failed; adopting while a restarted manager re-adopts the VM. */
  state: string;
  forwarded_port: string;
  /** 0 when QEMU is not running. */
  pid: number;
  backend: string;
  boot: string;
  /** RFC 3339. */
  created_at: string;
  /** RFC 3339 TTL deadline; empty for none. */
  ttl_deadline: string;
  /** How QEMU ended; null while it runs. */
  exit: VmExit | null;
  /** The guest's run state as QEMU reports it; empty when unknown. */
  guest_status: string;
  /** True when this manager re-adopted the VM from an earlier one. */
  adopted: boolean;
  /** Host PCI addresses (BDF) of the GPUs passed through to the VM while it holds them. */
  gpus: string[];
  /** Why the VM's latest state is not on disk yet while the manager retries (`STATE_DISK_FULL: …`); empty when saved. */
  state_write_error: string;
}

export interface WatchEventsReq {
  /** Only this VM's events; empty for every VM. */
  vm_id: string;
  /** Only lifecycle events: leave out console lines and agent messages. */
  lifecycle_only: boolean;
}

/** A log line or an event of a VM's agent, as the guest sent it. */
export interface AgentMessage {
  kind: 'log' | 'event';
  computation_id: string;
  /** log: its level and text. */
  level: string;
  message: string;
  /** event: its type, status, originator and details (JSON by the agent's convention). */
  event_type: string;
  status: string;
  originator: string;
  details: Uint8Array;
  /** The agent's own time, RFC 3339; empty when it sent none. */
  timestamp: string;
}

export interface VmStreamEvent {
  kind: 'lifecycle' | 'console' | 'agent';
  vm_id: string;
  /** lifecycle: the new state and the one before it (empty when unchanged). */
  state: string;
  previous_state: string;
  detail: string;
  /** console: one line of the VM's serial console. */
  line: string;
  /** RFC 3339. */
  at: string;
  /** agent: what the VM's agent said (absent for the other kinds). */
  agent?: AgentMessage | null;
}

export interface GetConsoleReq {
  id: string;
  /** How much of the end of the log; 0 for the default (64 KiB). */
  max_bytes: number;
}

export interface ConsoleText {
  text: string;
}

/** The unary RPCs of `manager.ManagerService`, each with its request and response message. */
export interface ManagerUnaryRpcs {
  CreateVm: { request: CreateReq; response: CreateRes };
  RemoveVm: { request: RemoveReq; response: Empty };
  CVMInfo: { request: CVMInfoReq; response: CVMInfoRes };
  AttestationPolicy: { request: AttestationPolicyReq; response: AttestationPolicyRes };
  ListVms: { request: ListVmsReq; response: ListVmsRes };
  GetVm: { request: GetVmReq; response: VmInfo };
  GetConsole: { request: GetConsoleReq; response: ConsoleText };
}

/** The server-streaming RPCs of `manager.ManagerService`. */
export interface ManagerStreamRpcs {
  WatchEvents: { request: WatchEventsReq; response: VmStreamEvent };
}

export type ManagerUnaryRpc = keyof ManagerUnaryRpcs;
