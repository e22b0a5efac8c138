import { clientErrorOf, errorCodeOf, isManagerError, type Logger, type VmApi } from '@cocos-manager/core';
import type { ClientStreamMessageInput } from '@cocos-manager/contract';
import { CM_EVENTS, CM_STATUS, managerEvent } from './client-messages.js';
import type { Computations } from './computations.js';

export interface RequestDeps {
  readonly vms: Pick<VmApi, 'remove' | 'cvmInfo' | 'attestationPolicy'>;
  readonly computations: Computations;
  readonly send: (message: ClientStreamMessageInput) => void;
  readonly logger: Logger;
}

/**
 * Computation Management's requests about a computation the client runs:
 * each is answered (never left waiting), under the computation id it named.
 * An id the client runs no computation for gets the answer's empty form and
 * a log line. Each resolves with its status code (metrics).
 */
export class ComputationRequests {
  constructor(private readonly deps: RequestDeps) {}

  /** stopComputation: removes the computation's VM; stopComputationRes (message empty on success) and a StopComputationRun event. */
  async stop(computationId: string): Promise<string> {
    const { computations, send, logger } = this.deps;
    const answer = (message: string) => {
      send({ stopComputationRes: { computation_id: computationId, message } });
      const status = message === '' ? CM_STATUS.completed : CM_STATUS.failed;
      send(managerEvent(CM_EVENTS.stop, computationId, status, message === '' ? {} : { error: message }));
    };
    const computation = computations.get(computationId);
    if (!computation) {
      logger.warn({ computation: computationId }, 'stopComputation for a computation this manager does not run');
      answer(`no computation ${computationId} runs on this manager`);
      return 'NOT_FOUND';
    }
    // A run still being provisioned is stopped once it settled (its VM up, or already failed and gone).
    await computation.settled;
    const vmId = computations.get(computationId)?.vmId ?? null;
    if (vmId === null) {
      answer(`computation ${computationId} did not start`);
      return 'NOT_FOUND';
    }
    try {
      await this.deps.vms.remove(vmId);
    } catch (err) {
      // Gone already (removed by an operator, its QEMU exited and was forgotten): stopped all the same.
      if (!isManagerError(err, 'VM_NOT_FOUND')) {
        logger.warn({ err, computation: computationId, vm: vmId }, 'stopping a computation failed');
        answer(clientErrorOf(err).message);
        return errorCodeOf(err);
      }
    }
    computations.forget(computationId);
    logger.info({ computation: computationId, vm: vmId }, 'computation stopped');
    answer('');
    return 'OK';
  }

  /** svmInfoReq: svm_info of the computation's VM (CVMInfo); only the id when there is none. */
  svmInfo(computationId: string): string {
    const vmId = this.vmOf(computationId, 'svmInfoReq');
    let info = { ovmf_version: '', cpu_num: 0, cpu_type: '', kernel_cmd: '', eos_version: '' };
    let code = vmId === null ? 'NOT_FOUND' : 'OK';
    if (vmId !== null) {
      try {
        const cvm = this.deps.vms.cvmInfo(vmId);
        info = { ovmf_version: cvm.ovmfVersion, cpu_num: cvm.cpuNum, cpu_type: cvm.cpuType, kernel_cmd: cvm.kernelCmd, eos_version: cvm.eosVersion };
      } catch (err) {
        this.deps.logger.warn({ err, computation: computationId, vm: vmId }, 'svmInfoReq: the VM has no CVM info');
        code = errorCodeOf(err);
      }
    }
    this.deps.send({ svm_info: { id: computationId, ...info } });
    return code;
  }

  /** attestationPolicyReq: the attestation policy of the computation's VM; empty `info` when there is none (no VM, no TEE). */
  async attestationPolicy(computationId: string): Promise<string> {
    const vmId = this.vmOf(computationId, 'attestationPolicyReq');
    let info: Uint8Array = new Uint8Array();
    let code = vmId === null ? 'NOT_FOUND' : 'OK';
    if (vmId !== null) {
      try {
        info = await this.deps.vms.attestationPolicy(vmId);
      } catch (err) {
        this.deps.logger.warn({ err, computation: computationId, vm: vmId }, 'attestationPolicyReq: no policy for the VM; answered empty');
        code = errorCodeOf(err);
      }
    }
    this.deps.send({ attestationPolicy: { id: computationId, info: Buffer.from(info) } });
    return code;
  }

  private vmOf(computationId: string, request: string): string | null {
    const vmId = this.deps.computations.get(computationId)?.vmId ?? null;
    if (vmId === null) this.deps.logger.warn({ computation: computationId }, `${request} for a computation without a VM on this manager; answered empty`);
    return vmId;
  }
}
