import type { AgentMessage as AgentMessageWire } from '@cocos-manager/contract';
import type { AgentRecord } from '@cocos-manager/core';

const EMPTY = new Uint8Array(0);

/** WatchEvents' AgentMessage of an agent record: every field, the ones of the other kind empty. */
export function agentMessageWire(record: AgentRecord): AgentMessageWire {
  const timestamp = record.timestamp ?? '';
  return record.kind === 'log'
    ? {
        kind: 'log',
        computation_id: record.computationId,
        level: record.level,
        message: record.message,
        event_type: '',
        status: '',
        originator: '',
        details: EMPTY,
        timestamp,
      }
    : {
        kind: 'event',
        computation_id: record.computationId,
        level: '',
        message: '',
        event_type: record.eventType,
        status: record.status,
        originator: record.originator,
        details: record.details,
        timestamp,
      };
}

/** The bytes an agent message holds, roughly: what a WatchEvents backlog counts for it. */
export function agentMessageBytes(wire: AgentMessageWire): number {
  return (
    64 +
    wire.computation_id.length +
    wire.level.length +
    Buffer.byteLength(wire.message) +
    wire.event_type.length +
    wire.status.length +
    wire.originator.length +
    wire.details.length
  );
}
