import { EventEmitter } from 'node:events';
import type { AgentMessageEvent, AgentRecord } from '../api/agent-messages.js';
import type { ConsoleLine, VmEvent, VmState } from '../api/vm-types.js';

/** Lifecycle events, console lines and agent messages of every VM, for the transports' streams. */
export class VmEventBus {
  private readonly emitter = new EventEmitter<{ event: [VmEvent]; console: [ConsoleLine]; agent: [AgentMessageEvent] }>();

  constructor() {
    // One listener per open stream; a hundred watchers is not a leak.
    this.emitter.setMaxListeners(0);
  }

  lifecycle(vmId: string, state: VmState, previous: VmState | null, detail: string): void {
    this.emitter.emit('event', { kind: 'lifecycle', vmId, state, previous, at: new Date().toISOString(), detail });
  }

  console(vmId: string, line: string, cut = false): void {
    const at = new Date().toISOString();
    this.emitter.emit('console', cut ? { kind: 'console', vmId, line, at, cut: true } : { kind: 'console', vmId, line, at });
  }

  /** Streams one agent message; returns it as sent. */
  agent(vmId: string, message: AgentRecord): AgentMessageEvent {
    const event: AgentMessageEvent = { kind: 'agent', vmId, at: new Date().toISOString(), message };
    this.emitter.emit('agent', event);
    return event;
  }

  onEvent(listener: (event: VmEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  onConsole(listener: (line: ConsoleLine) => void): () => void {
    this.emitter.on('console', listener);
    return () => this.emitter.off('console', listener);
  }

  onAgent(listener: (event: AgentMessageEvent) => void): () => void {
    this.emitter.on('agent', listener);
    return () => this.emitter.off('agent', listener);
  }
}
