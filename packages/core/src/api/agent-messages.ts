/**
 * What a VM's agent says over its agent channel (seeds/002: the Cocos agent's
 * logs and events), as core carries it to the APIs. A plugin that hears an
 * agent (the channel is a plugin's) hands each checked message to core's
 * AGENT_MESSAGES sink; core keeps a bounded history per VM and streams them
 * (WatchEvents, SSE `event: agent`, metrics). Everything here came from a
 * guest: the publishing plugin bounds each field, and which VM spoke is the
 * plugin's knowledge (the socket it came on), never a field of the message.
 */
export interface AgentLogRecord {
  readonly kind: 'log';
  readonly computationId: string;
  readonly level: string;
  readonly message: string;
  /** The agent's time, RFC 3339; null when it sent none. */
  readonly timestamp: string | null;
}

export interface AgentEventRecord {
  readonly kind: 'event';
  readonly computationId: string;
  readonly eventType: string;
  readonly status: string;
  readonly originator: string;
  /** The agent's details bytes (JSON by the agent's convention, not checked as such). */
  readonly details: Uint8Array;
  readonly timestamp: string | null;
}

export type AgentRecord = AgentLogRecord | AgentEventRecord;

/** One agent message of one VM, as the event streams carry it. */
export interface AgentMessageEvent {
  readonly kind: 'agent';
  readonly vmId: string;
  /** When the manager received it, RFC 3339. */
  readonly at: string;
  readonly message: AgentRecord;
}

/** Why an agent channel refused what a guest sent: a frame over 1 MiB, a payload that is no valid message, more than the rate allows. */
export const AGENT_REJECT_REASONS = ['oversized', 'malformed', 'flood'] as const;
export type AgentRejectReason = (typeof AGENT_REJECT_REASONS)[number];

/** Core's end of the agent channels: where a plugin hands what a VM's agent said. */
export interface AgentMessageSink {
  /** Records and streams `message` of VM `vmId`; a VM the manager does not know (removed meanwhile) is ignored. */
  publish(vmId: string, message: AgentRecord): void;
  /** Counts what the channel refused from VM `vmId`'s guest, and whether it cut the connection off for it (metrics, the VM's log). */
  rejected(vmId: string, reason: AgentRejectReason, cut: boolean): void;
}

/** A plugin's way to a VM's agent (the agent channel): what a run request's manifest is handed over with. */
export interface AgentChannel {
  /** Whether VMs created now get a channel (the channel is configured on). */
  readonly enabled: boolean;
  /**
   * Hands `manifest` (the computation's JSON) to the agent of VM `vmId`,
   * written once; resolves when it was written. Throws a ManagerError
   * (VM_NOT_FOUND when the VM has no channel, AGENT_CHANNEL_UNREACHABLE when
   * the agent could not be reached in time).
   */
  deliverManifest(vmId: string, manifest: Uint8Array): Promise<void>;
}
