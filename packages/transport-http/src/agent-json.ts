import type { AgentMessageEvent } from '@cocos-manager/core';

/** An agent message as the HTTP API shows it (SSE `event: agent`, GET /vms/{id}/agent): camelCase like the other events, `details` as text. */
export type AgentMessageJson =
  | { vmId: string; at: string; kind: 'log'; computationId: string; level: string; message: string; timestamp: string | null }
  | {
      vmId: string;
      at: string;
      kind: 'event';
      computationId: string;
      eventType: string;
      status: string;
      originator: string;
      details: string;
      timestamp: string | null;
    };

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function agentMessageJson(event: AgentMessageEvent): AgentMessageJson {
  const { vmId, at, message: m } = event;
  return m.kind === 'log'
    ? { vmId, at, kind: 'log', computationId: m.computationId, level: m.level, message: m.message, timestamp: m.timestamp }
    : {
        vmId,
        at,
        kind: 'event',
        computationId: m.computationId,
        eventType: m.eventType,
        status: m.status,
        originator: m.originator,
        // The agent's convention is JSON; bytes that are not UTF-8 show as U+FFFD.
        details: utf8.decode(m.details),
        timestamp: m.timestamp,
      };
}
