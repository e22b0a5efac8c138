import { clientErrorOf, errorCodeOf, type AgentChannel, type Logger, type VmApi } from '@cocos-manager/core';
import type { ClientStreamMessageInput, ComputationRunReq } from '@cocos-manager/contract';
import { CM_EVENTS, CM_STATUS, managerEvent } from './client-messages.js';
import type { Computations } from './computations.js';
import type { CmLimits } from './limits.js';
import { createRequestOf, manifestOf } from './run-mapping.js';

export interface ProvisionerDeps {
  readonly vms: Pick<VmApi, 'create' | 'remove'>;
  /** The agent channel (AGENT_CHANNEL), or null when no plugin provides one. */
  readonly channel: AgentChannel | null;
  readonly computations: Computations;
  readonly send: (message: ClientStreamMessageInput) => void;
  readonly logger: Logger;
  readonly limits: Pick<CmLimits, 'maxRunsInFlight'>;
}

/** Why a run cannot hand its manifest over, or null when it can. */
export function channelProblem(channel: AgentChannel | null): string | null {
  if (channel === null)
    return 'the manager has no agent channel (the @cocos-manager/agent-channel plugin is not loaded): a run cannot hand its agent the manifest';
  if (!channel.enabled) return 'the agent channel is off (MANAGER_AGENT_CHANNEL=off): a run cannot hand its agent the manifest; set vsock or virtio-serial';
  return null;
}

/**
 * Runs a computation: VmProvision Starting → VmApi.create (the run's agent
 * config mapped into a CreateVm request) → InProgress → the manifest (JSON of
 * the computation) to the VM's agent over the agent channel → run_res with
 * the forwarded port → Completed. Any failure: VmProvision Failed with the
 * error (a VM already created is removed again) and no run_res.
 */
export class RunProvisioner {
  private inFlight = 0;

  constructor(private readonly deps: ProvisionerDeps) {}

  /** Runs being provisioned now. */
  get running(): number {
    return this.inFlight;
  }

  /** Reports a run refused before it started (corrupt, oversized, idle): VmProvision Failed. */
  refuse(computationId: string, reason: string): void {
    this.deps.logger.warn({ computation: computationId, reason }, 'run request refused');
    this.deps.send(managerEvent(CM_EVENTS.provision, computationId, CM_STATUS.failed, { error: reason }));
  }

  /** Provisions `run`; resolves with the outcome's status code once it settled (never rejects). */
  async run(run: ComputationRunReq): Promise<string> {
    const { computations, limits } = this.deps;
    const id = run.id;
    if (computations.get(id)) {
      this.refuse(id, `computation ${id} is already running (or starting) on this manager`);
      return 'ALREADY_EXISTS';
    }
    if (this.inFlight >= limits.maxRunsInFlight) {
      this.refuse(id, `${limits.maxRunsInFlight} runs are being provisioned already; retry later`);
      return 'RESOURCE_EXHAUSTED';
    }
    const problem = channelProblem(this.deps.channel);
    if (problem !== null) {
      this.refuse(id, problem);
      return 'FAILED_PRECONDITION';
    }
    const settle = computations.begin(id);
    this.inFlight++;
    try {
      return await this.provision(run, this.deps.channel as AgentChannel);
    } finally {
      this.inFlight--;
      settle();
    }
  }

  private async provision(run: ComputationRunReq, channel: AgentChannel): Promise<string> {
    const { vms, computations, send, logger } = this.deps;
    const id = run.id;
    const log = logger.child({ computation: id });
    send(managerEvent(CM_EVENTS.provision, id, CM_STATUS.starting));
    let vm: { id: string; forwardedPort: number };
    try {
      vm = await vms.create(createRequestOf(run));
    } catch (err) {
      computations.forget(id);
      return this.failed(log, id, err, 'creating the VM of a run failed');
    }
    computations.bind(id, vm.id, vm.forwardedPort);
    const where = { vm_id: vm.id, agent_port: String(vm.forwardedPort) };
    log.info(where, 'VM of a run created; handing its agent the manifest');
    send(managerEvent(CM_EVENTS.provision, id, CM_STATUS.inProgress, where));
    try {
      await channel.deliverManifest(vm.id, manifestOf(run));
    } catch (err) {
      computations.forget(id);
      await vms.remove(vm.id).catch((removeErr: unknown) => log.error({ err: removeErr, vm: vm.id }, 'removing the VM of a failed run failed'));
      return this.failed(log, id, err, "handing a run's manifest to its agent failed; its VM was removed");
    }
    send({ run_res: { agent_port: String(vm.forwardedPort), computation_id: id } });
    send(managerEvent(CM_EVENTS.provision, id, CM_STATUS.completed, where));
    log.info(where, 'run provisioned');
    return 'OK';
  }

  private failed(log: Logger, id: string, err: unknown, what: string): string {
    const client = clientErrorOf(err);
    log.warn({ err }, what);
    this.deps.send(managerEvent(CM_EVENTS.provision, id, CM_STATUS.failed, { error: client.message }));
    return errorCodeOf(err);
  }
}
