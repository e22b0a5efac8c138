import { AGENT_REJECT_REASONS, type AgentMessageEvent, type AgentMessageSink, type AgentRecord, type AgentRejectReason } from '../../api/agent-messages.js';
import type { VmEventBus } from '../vm-events.js';

/** Agent messages kept per VM, at most (the newest). */
export const MAX_AGENT_HISTORY = 200;
/** And at most this many bytes of their texts per VM: a guest's 16 KiB fields cannot make a VM's history large. */
export const MAX_AGENT_HISTORY_BYTES = 256 * 1024;

function sizeOf(record: AgentRecord): number {
  const texts = record.kind === 'log' ? record.message.length + record.level.length : record.eventType.length + record.status.length + record.originator.length;
  return texts + record.computationId.length + (record.kind === 'event' ? record.details.length : 0) + 64;
}

interface History {
  readonly events: AgentMessageEvent[];
  bytes: number;
}

/**
 * Core's AGENT_MESSAGES: what the agent channels hear goes to the event bus
 * (the streams, the metrics) and into a bounded history per VM (the VM's
 * page shows what its agent said before the page was opened). Only VMs the
 * manager knows have a history; it goes with the VM.
 */
export class AgentHub implements AgentMessageSink {
  private readonly histories = new Map<string, History>();
  private known: (vmId: string) => boolean = () => false;
  private readonly refused = new Map<AgentRejectReason, number>(AGENT_REJECT_REASONS.map((r) => [r, 0]));
  private cutOff = 0;

  constructor(readonly events: VmEventBus) {}

  /** Which VMs exist (the VM table's answer); until bound, none do. */
  bind(known: (vmId: string) => boolean): void {
    this.known = known;
  }

  publish(vmId: string, message: AgentRecord): void {
    if (!this.known(vmId)) return;
    const event = this.events.agent(vmId, message);
    let history = this.histories.get(vmId);
    if (!history) this.histories.set(vmId, (history = { events: [], bytes: 0 }));
    history.events.push(event);
    history.bytes += sizeOf(message);
    while (history.events.length > MAX_AGENT_HISTORY || (history.bytes > MAX_AGENT_HISTORY_BYTES && history.events.length > 1)) {
      const dropped = history.events.shift();
      if (dropped) history.bytes -= sizeOf(dropped.message);
    }
  }

  rejected(_vmId: string, reason: AgentRejectReason, cut: boolean): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    if (cut) this.cutOff++;
  }

  /** What the channels refused so far, by reason, and the connections they cut off (the metrics read them). */
  rejections(): { readonly byReason: ReadonlyMap<AgentRejectReason, number>; readonly cut: number } {
    return { byReason: this.refused, cut: this.cutOff };
  }

  /** A VM's kept messages, oldest first. */
  history(vmId: string): AgentMessageEvent[] {
    return [...(this.histories.get(vmId)?.events ?? [])];
  }

  /** The VM is gone: its history too. */
  forget(vmId: string): void {
    this.histories.delete(vmId);
  }
}
