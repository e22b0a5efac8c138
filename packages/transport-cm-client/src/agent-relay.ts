import { VmState, type AgentMessageEvent, type Logger, type VmApi, type VmEvent } from '@cocos-manager/core';
import type { ClientStreamMessageInput } from '@cocos-manager/contract';
import { relayedMessage } from './client-messages.js';
import type { Computations } from './computations.js';

export interface RelayDeps {
  readonly vms: Pick<VmApi, 'onAgent' | 'onEvent'>;
  readonly computations: Computations;
  readonly send: (message: ClientStreamMessageInput) => void;
  readonly logger: Logger;
}

/**
 * Relays what the agents of the client's VMs say (VmApi.onAgent) to
 * Computation Management as agent_log / agent_event, under the computation
 * the VM was started for — whatever computation id the guest put in its
 * message (a guest names only itself; one that names another computation is
 * logged, once per VM). Messages of VMs the client did not start are not
 * relayed. Forgets a computation whose VM was removed (VmState stopped).
 */
export class AgentRelay {
  private unsubscribe: Array<() => void> = [];
  private readonly warned = new Set<string>();
  private relayedCount = 0;

  constructor(private readonly deps: RelayDeps) {}

  /** Agent messages relayed since start. */
  get relayed(): number {
    return this.relayedCount;
  }

  start(): void {
    if (this.unsubscribe.length > 0) return;
    this.unsubscribe = [this.deps.vms.onAgent((event) => this.onAgent(event)), this.deps.vms.onEvent((event) => this.onLifecycle(event))];
  }

  stop(): void {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
  }

  private onAgent(event: AgentMessageEvent): void {
    const computationId = this.deps.computations.computationOfVm(event.vmId);
    if (computationId === undefined) return;
    const claimed = event.message.computationId;
    if (claimed !== '' && claimed !== computationId && !this.warned.has(event.vmId)) {
      this.warned.add(event.vmId);
      this.deps.logger.warn({ vm: event.vmId, computation: computationId }, "a VM's agent names another computation than its own: relayed under its own");
    }
    this.relayedCount++;
    this.deps.send(relayedMessage(event, computationId));
  }

  private onLifecycle(event: VmEvent): void {
    if (event.state !== VmState.Stopped) return;
    const computationId = this.deps.computations.forgetVm(event.vmId);
    this.warned.delete(event.vmId);
    if (computationId !== undefined) this.deps.logger.info({ vm: event.vmId, computation: computationId }, 'the VM of a computation is gone');
  }
}
