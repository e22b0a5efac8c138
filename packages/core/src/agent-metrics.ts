import { Counter, type Registry } from 'prom-client';
import type { AgentMessageEvent, AgentRejectReason } from './api/agent-messages.js';

/** What the metrics read of the agent hub. */
export interface AgentCounts {
  onAgent(listener: (event: AgentMessageEvent) => void): () => void;
  rejections(): { readonly byReason: ReadonlyMap<AgentRejectReason, number>; readonly cut: number };
}

/** Distinct agent event types that get their own label value; later ones count as `other`. */
export const MAX_AGENT_EVENT_TYPES = 32;

/**
 * Agent messages received, by kind (log, event) and event type. The event
 * type is a guest's text: only the first MAX_AGENT_EVENT_TYPES distinct ones
 * (and only of label-safe characters) become label values, so a guest
 * inventing types cannot grow the registry.
 */
export function agentMessageMetrics(registry: Registry, agents: AgentCounts): void {
  const counter = new Counter({
    name: 'manager_agent_messages_total',
    help: `Agent channel messages received from VMs' agents, by kind (log, event) and event type (logs: empty; the first ${MAX_AGENT_EVENT_TYPES} distinct event types, later ones "other").`,
    labelNames: ['kind', 'event_type'],
    registers: [registry],
  });
  const seen = new Set<string>();
  agents.onAgent(({ message }) => {
    if (message.kind === 'log') return void counter.inc({ kind: 'log', event_type: '' });
    let type = /^[A-Za-z0-9_.:-]{1,64}$/.test(message.eventType) ? message.eventType : 'other';
    if (!seen.has(type)) {
      if (seen.size < MAX_AGENT_EVENT_TYPES) seen.add(type);
      else type = 'other';
    }
    counter.inc({ kind: 'event', event_type: type });
  });
  new Counter({
    name: 'manager_agent_frames_rejected_total',
    help: 'Frames or connections from guests the agent channel refused, by reason (oversized: over 1 MiB; malformed: not a valid bounded message; flood: over the rate or the connection limit).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of agents.rejections().byReason) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'manager_agent_connections_cut_total',
    help: 'Agent channel connections the manager cut off because their guest went over a bound.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(agents.rejections().cut);
    },
  });
}
