import type { AgentMessageEvent } from '@cocos-manager/core';
import type { ClientStreamMessageInput, Timestamp } from '@cocos-manager/contract';

/** The originator of the events the manager itself reports (upstream's). */
export const MANAGER_ORIGINATOR = 'manager';

/** Event types and statuses of the manager's own agent_events (upstream's names). */
export const CM_EVENTS = { provision: 'VmProvision', stop: 'StopComputationRun' } as const;
export const CM_STATUS = { starting: 'Starting', inProgress: 'InProgress', completed: 'Completed', failed: 'Failed' } as const;
export type CmStatus = (typeof CM_STATUS)[keyof typeof CM_STATUS];

/** An RFC 3339 time as a protobuf Timestamp, nanoseconds kept; null when it does not parse. */
export function timestampOf(rfc3339: string): Timestamp | null {
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return null;
  const fraction = /\.(\d+)/.exec(rfc3339.slice(rfc3339.indexOf('T')))?.[1] ?? '';
  const nanos = Number((fraction + '000000000').slice(0, 9));
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos };
}

/** Now as a protobuf Timestamp. */
export function nowTimestamp(now: Date = new Date()): Timestamp {
  return timestampOf(now.toISOString()) as Timestamp;
}

/** One of the manager's own events about a computation: details a small JSON object. */
export function managerEvent(eventType: string, computationId: string, status: CmStatus, details: Record<string, unknown> = {}): ClientStreamMessageInput {
  return {
    agent_event: {
      event_type: eventType,
      timestamp: nowTimestamp(),
      computation_id: computationId,
      details: Buffer.from(JSON.stringify(details), 'utf8'),
      originator: MANAGER_ORIGINATOR,
      status,
    },
  };
}

/**
 * What a VM's agent said, for Computation Management: under the computation
 * the client started that VM for (the VM says which computation, never the
 * guest's bytes), at the agent's time or else the manager's. An event a
 * guest claims the manager sent is relayed as the agent's: only the manager
 * speaks as `manager`.
 */
export function relayedMessage(event: AgentMessageEvent, computationId: string): ClientStreamMessageInput {
  const record = event.message;
  const timestamp = (record.timestamp === null ? null : timestampOf(record.timestamp)) ?? timestampOf(event.at);
  if (record.kind === 'log') {
    return { agent_log: { message: record.message, computation_id: computationId, level: record.level, timestamp } };
  }
  return {
    agent_event: {
      event_type: record.eventType,
      timestamp,
      computation_id: computationId,
      details: Buffer.from(record.details),
      originator: record.originator === MANAGER_ORIGINATOR ? 'agent' : record.originator,
      status: record.status,
    },
  };
}

/** Which member a message sets, for logs and metrics. */
export function memberOf(message: ClientStreamMessageInput): string {
  return Object.keys(message).find((key) => (message as Record<string, unknown>)[key] !== undefined) ?? 'none';
}

/** About how many bytes a message is on the wire (its strings and bytes): what the outbox bounds. */
export function approximateBytes(message: ClientStreamMessageInput): number {
  let total = 16;
  const visit = (value: unknown): void => {
    if (typeof value === 'string') total += Buffer.byteLength(value, 'utf8') + 2;
    else if (value instanceof Uint8Array) total += value.byteLength + 2;
    else if (value !== null && typeof value === 'object') for (const inner of Object.values(value)) visit(inner);
    else total += 8;
  };
  visit(message);
  return total;
}
