import type { Logger } from '@cocos-manager/core';
import type { ComputationRunReq, RunReqChunks, ServerStreamMessage } from '@cocos-manager/contract';
import type { ComputationRequests } from './computation-requests.js';
import { isValidId, shown } from './ids.js';
import type { CmLimits } from './limits.js';
import type { RunAssembler } from './run-assembler.js';
import { checkRunRequest, parseRunRequest } from './run-request.js';
import type { RunProvisioner } from './run-provisioner.js';

export interface DispatchDeps {
  readonly assembler: RunAssembler;
  readonly runs: Pick<RunProvisioner, 'run' | 'refuse'>;
  readonly requests: Pick<ComputationRequests, 'stop' | 'svmInfo' | 'attestationPolicy'>;
  readonly logger: Logger;
  readonly limits: Pick<CmLimits, 'maxRequestsInFlight' | 'maxLoggedText'>;
  /** terminateReq: the stream is to end (its message, cut for the log). */
  readonly onTerminate: (message: string) => void;
  /** One request handled: its member, status code and how long it took (metrics). */
  readonly observe: (member: string, code: string, seconds: number) => void;
}

const MEMBERS = ['runReqChunks', 'runReq', 'terminateReq', 'stopComputation', 'attestationPolicyReq', 'svmInfoReq'] as const;

/**
 * Acts on each message Computation Management sends on one stream, after
 * checking it: a known member, ids that are ids, bounded work in flight (a
 * request over the bound is answered as refused, or dropped when it names
 * nothing to answer). Runs and stops go on in the background; the stream is
 * read on meanwhile.
 */
export class ServerMessages {
  private inFlight = 0;

  constructor(private readonly deps: DispatchDeps) {}

  handle(message: ServerStreamMessage): void {
    const member = message.message as string | undefined;
    if (member === undefined || !(MEMBERS as readonly string[]).includes(member)) {
      this.deps.logger.warn({ member: shown(member) }, 'a message from Computation Management with no known member: ignored');
      this.deps.observe('unknown', 'INVALID_ARGUMENT', 0);
      return;
    }
    const started = process.hrtime.bigint();
    const observe = (code: string) => this.deps.observe(member, code, Number(process.hrtime.bigint() - started) / 1e9);
    switch (message.message) {
      case 'runReqChunks':
        return observe(this.chunk(message.runReqChunks));
      case 'runReq':
        return observe(this.wholeRun(message.runReq));
      case 'terminateReq': {
        const text = String(message.terminateReq.message ?? '').slice(0, this.deps.limits.maxLoggedText);
        this.deps.onTerminate(text);
        return observe('OK');
      }
      case 'stopComputation':
        return this.request(member, message.stopComputation.computation_id, observe, (id) => this.deps.requests.stop(id));
      case 'attestationPolicyReq':
        return this.request(member, message.attestationPolicyReq.id, observe, (id) => this.deps.requests.attestationPolicy(id));
      case 'svmInfoReq':
        return this.request(member, message.svmInfoReq.id, observe, (id) => Promise.resolve(this.deps.requests.svmInfo(id)));
    }
  }

  private chunk(chunk: RunReqChunks): string {
    const outcome = this.deps.assembler.add(chunk);
    switch (outcome.kind) {
      case 'partial':
        return 'OK';
      case 'ignored':
        this.deps.logger.debug({ id: shown(chunk.id), reason: outcome.reason }, 'run request chunk dropped');
        return 'INVALID_ARGUMENT';
      case 'rejected':
        this.deps.runs.refuse(outcome.id, outcome.reason);
        return 'INVALID_ARGUMENT';
      case 'complete': {
        const parsed = parseRunRequest(outcome.bytes, outcome.id);
        if (!parsed.ok) {
          this.deps.runs.refuse(parsed.id, parsed.reason);
          return 'INVALID_ARGUMENT';
        }
        if (parsed.run.id !== outcome.id)
          this.deps.logger.warn({ chunks: outcome.id, computation: parsed.run.id }, 'run request chunks keyed by another id than the run');
        return this.start(parsed.run);
      }
    }
  }

  private wholeRun(run: ComputationRunReq): string {
    const checked = checkRunRequest(run, '');
    if (!checked.ok) {
      this.deps.logger.warn({ reason: checked.reason }, 'runReq without a valid computation id: ignored');
      return 'INVALID_ARGUMENT';
    }
    return this.start(checked.run);
  }

  private start(run: ComputationRunReq): string {
    // Settles in the background; its outcome is logged and reported to Computation Management as events.
    this.deps.runs
      .run(run)
      .then((code) => this.deps.observe('run', code, 0))
      .catch((err: unknown) => this.deps.logger.error({ err, computation: run.id }, 'a run failed unexpectedly'));
    return 'OK';
  }

  private request(member: string, id: unknown, observe: (code: string) => void, work: (id: string) => Promise<string>): void {
    if (!isValidId(id)) {
      this.deps.logger.warn({ member, id: shown(id) }, 'a request from Computation Management without a valid id: ignored');
      return observe('INVALID_ARGUMENT');
    }
    if (this.inFlight >= this.deps.limits.maxRequestsInFlight) {
      this.deps.logger.warn({ member, id: shown(id) }, `${this.deps.limits.maxRequestsInFlight} requests are being answered already: dropped`);
      return observe('RESOURCE_EXHAUSTED');
    }
    this.inFlight++;
    work(id)
      .catch((err: unknown) => {
        this.deps.logger.error({ err, member }, 'answering a request of Computation Management failed');
        return 'INTERNAL';
      })
      .then((code) => {
        this.inFlight--;
        observe(code);
      })
      .catch(() => undefined);
  }
}
