/**
 * The messages of `cm-stream.proto` (the seeds/002 manager's Computation
 * Management stream and the agent channel's payload) as they travel: field
 * names as in the .proto, values as proto-loader (and `decodeEventsLogs`)
 * decode them with PROTO_OPTIONS — every scalar present, bytes as Buffer,
 * 64-bit integers as decimal strings, an unset message field as null, and a
 * oneof's `message` naming the member that is set. A sender may leave fields
 * out; the `…Input` types say what it must give.
 */

/** `google.protobuf.Timestamp`. */
export interface Timestamp {
  /** Seconds since the Unix epoch (an int64, in decimal). */
  seconds: string;
  nanos: number;
}

export interface AgentLog {
  message: string;
  computation_id: string;
  level: string;
  timestamp: Timestamp | null;
}

export interface AgentEvent {
  event_type: string;
  timestamp: Timestamp | null;
  computation_id: string;
  /** JSON, by the agent's convention. */
  details: Buffer;
  originator: string;
  status: string;
}

export interface RunResponse {
  agent_port: string;
  computation_id: string;
}

export interface AttestationPolicy {
  info: Buffer;
  id: string;
}

export interface StopComputationResponse {
  computation_id: string;
  message: string;
}

export interface SVMInfo {
  id: string;
  ovmf_version: string;
  cpu_num: number;
  cpu_type: string;
  kernel_cmd: string;
  eos_version: string;
}

export interface RunReqChunks {
  data: Buffer;
  id: string;
  is_last: boolean;
}

export interface Dataset {
  /** sha3-256 of the dataset (32 bytes). */
  hash: Buffer;
  userKey: Buffer;
  filename: string;
}

export interface Algorithm {
  /** sha3-256 of the algorithm (32 bytes). */
  hash: Buffer;
  userKey: Buffer;
}

export interface ResultConsumer {
  userKey: Buffer;
}

export interface AgentConfig {
  port: string;
  host: string;
  cert_file: string;
  key_file: string;
  client_ca_file: string;
  server_ca_file: string;
  log_level: string;
  attested_tls: boolean;
}

export interface ComputationRunReq {
  id: string;
  name: string;
  description: string;
  datasets: Dataset[];
  algorithm: Algorithm | null;
  result_consumers: ResultConsumer[];
  agent_config: AgentConfig | null;
}

export interface Terminate {
  message: string;
}

export interface StopComputation {
  computation_id: string;
}

export interface CmAttestationPolicyReq {
  id: string;
}

export interface SVMInfoReq {
  id: string;
}

/**
 * A decoded oneof: `message` names the member that is set, which is present;
 * the others are absent. `M` maps member names to their message types.
 */
export type OneOf<M> = { [K in keyof M]: { message: K } & { [P in K]: M[P] } & { [P in Exclude<keyof M, K>]?: undefined } }[keyof M];

/** A oneof to send: exactly one member set (nested fields may be left out). */
export type OneOfInput<M> = { [K in keyof M]: { [P in K]: Partial<M[P]> } & { [P in Exclude<keyof M, K>]?: undefined } }[keyof M];

/** The members of ClientStreamMessage (manager → Computation Management), by field name. */
export interface ClientStreamMembers {
  agent_log: AgentLog;
  agent_event: AgentEvent;
  run_res: RunResponse;
  attestationPolicy: AttestationPolicy;
  stopComputationRes: StopComputationResponse;
  svm_info: SVMInfo;
}

/** The members of ServerStreamMessage (Computation Management → manager), by field name. */
export interface ServerStreamMembers {
  runReqChunks: RunReqChunks;
  runReq: ComputationRunReq;
  terminateReq: Terminate;
  stopComputation: StopComputation;
  attestationPolicyReq: CmAttestationPolicyReq;
  svmInfoReq: SVMInfoReq;
}

/** The members of EventsLogs, the payload of one agent-channel frame. */
export interface EventsLogsMembers {
  agent_log: AgentLog;
  agent_event: AgentEvent;
}

export type ClientStreamMessage = OneOf<ClientStreamMembers>;
export type ServerStreamMessage = OneOf<ServerStreamMembers>;
export type EventsLogs = OneOf<EventsLogsMembers>;
export type ClientStreamMessageInput = OneOfInput<ClientStreamMembers>;
export type ServerStreamMessageInput = OneOfInput<ServerStreamMembers>;
export type EventsLogsInput = OneOfInput<EventsLogsMembers>;
