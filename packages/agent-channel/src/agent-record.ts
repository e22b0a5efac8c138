import type { AgentRecord } from '@cocos-manager/core';
import type { AgentMessage } from './agent-message.js';

/** A checked agent message as core carries it (AGENT_MESSAGES): times as RFC 3339. */
export function agentRecordOf(message: AgentMessage): AgentRecord {
  const timestamp = message.timestamp ? message.timestamp.toISOString() : null;
  return message.kind === 'log'
    ? { kind: 'log', computationId: message.computationId, level: message.level, message: message.message, timestamp }
    : {
        kind: 'event',
        computationId: message.computationId,
        eventType: message.eventType,
        status: message.status,
        originator: message.originator,
        details: new Uint8Array(message.details),
        timestamp,
      };
}
