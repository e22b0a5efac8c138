import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { agentMessageMetrics, MAX_AGENT_EVENT_TYPES } from '../src/agent-metrics.js';
import type { AgentRecord } from '../src/api/agent-messages.js';
import { AgentHub, MAX_AGENT_HISTORY, MAX_AGENT_HISTORY_BYTES } from '../src/vm/agent/agent-hub.js';
import { VmEventBus } from '../src/vm/vm-events.js';

const log = (message: string): AgentRecord => ({ kind: 'log', computationId: '', level: 'info', message, timestamp: null });
const event = (eventType: string): AgentRecord => ({
  kind: 'event',
  computationId: 'c1',
  eventType,
  status: 'ok',
  originator: 'agent',
  details: new Uint8Array(0),
  timestamp: null,
});

function hub(known: string[] = ['vm-1', 'vm-2']) {
  const h = new AgentHub(new VmEventBus());
  h.bind((id) => known.includes(id));
  return h;
}

describe('agent hub (AGENT_MESSAGES)', () => {
  it('streams and keeps what a known VM said, oldest first; a VM it does not know is ignored', () => {
    const h = hub();
    const seen: string[] = [];
    h.events.onAgent((e) => seen.push(`${e.vmId}:${e.message.kind}`));
    h.publish('vm-1', log('a'));
    h.publish('vm-2', event('x'));
    h.publish('vm-gone', log('nobody'));
    expect(seen).toEqual(['vm-1:log', 'vm-2:event']);
    expect(h.history('vm-1').map((e) => (e.message.kind === 'log' ? e.message.message : ''))).toEqual(['a']);
    expect(h.history('vm-gone')).toEqual([]);
  });

  it(`keeps at most ${MAX_AGENT_HISTORY} messages per VM, the newest`, () => {
    const h = hub();
    for (let i = 0; i < MAX_AGENT_HISTORY + 50; i++) h.publish('vm-1', log(String(i)));
    const kept = h.history('vm-1');
    expect(kept).toHaveLength(MAX_AGENT_HISTORY);
    expect(kept[0]!.message.kind === 'log' && kept[0]!.message.message).toBe('50');
  });

  it(`keeps at most ${MAX_AGENT_HISTORY_BYTES / 1024} KiB of a VM's messages, however large each is`, () => {
    const h = hub();
    const big = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 100; i++) h.publish('vm-1', log(big));
    const bytes = h.history('vm-1').reduce((n, e) => n + (e.message.kind === 'log' ? e.message.message.length : 0), 0);
    expect(bytes).toBeLessThanOrEqual(MAX_AGENT_HISTORY_BYTES);
    expect(h.history('vm-1').length).toBeGreaterThan(10);
  });

  it("forgets a removed VM's history, and counts rejections and cuts", () => {
    const h = hub();
    h.publish('vm-1', log('a'));
    h.forget('vm-1');
    expect(h.history('vm-1')).toEqual([]);
    h.rejected('vm-1', 'flood', true);
    h.rejected('vm-1', 'malformed', false);
    expect(Object.fromEntries(h.rejections().byReason)).toEqual({ oversized: 0, malformed: 1, flood: 1 });
    expect(h.rejections().cut).toBe(1);
  });

  it(`labels at most ${MAX_AGENT_EVENT_TYPES} distinct event types a guest invents; the rest and odd ones count as other`, async () => {
    const h = hub();
    const registry = new Registry();
    agentMessageMetrics(registry, { onAgent: (l) => h.events.onAgent(l), rejections: () => h.rejections() });
    for (let i = 0; i < MAX_AGENT_EVENT_TYPES + 20; i++) h.publish('vm-1', event(`type-${i}`));
    h.publish('vm-1', event('has space{"}'));
    h.publish('vm-1', event('type-0'));
    const text = await registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('manager_agent_messages_total{'));
    expect(series).toHaveLength(MAX_AGENT_EVENT_TYPES + 1);
    expect(text).toContain('manager_agent_messages_total{kind="event",event_type="type-0"} 2');
    expect(text).toContain('manager_agent_messages_total{kind="event",event_type="other"} 21');
  });
});
