import { decodeComputationRunReq, type ComputationRunReq } from '@cocos-manager/contract';
import { isValidId } from './ids.js';

/** A run request as the client takes it, or why not (under which id to report it). */
export type RunRequestOutcome = { readonly ok: true; readonly run: ComputationRunReq } | { readonly ok: false; readonly id: string; readonly reason: string };

/** A decoded run request's own checks: an id the client can name it by. */
export function checkRunRequest(run: ComputationRunReq, fallbackId: string): RunRequestOutcome {
  if (!isValidId(run.id)) return { ok: false, id: fallbackId, reason: 'the run request has no valid computation id' };
  return { ok: true, run };
}

/**
 * The bytes of reassembled chunks as a run request. Bytes that are no
 * ComputationRunReq (a truncated or corrupted transfer) are refused under the
 * chunks' id; so is a run that names no computation. The run's own id names
 * the computation from then on (upstream's chunks carry the computation id).
 */
export function parseRunRequest(bytes: Uint8Array, chunkId: string): RunRequestOutcome {
  let run: ComputationRunReq;
  try {
    run = decodeComputationRunReq(bytes);
  } catch {
    return { ok: false, id: chunkId, reason: 'the run request does not parse as a ComputationRunReq (corrupt or truncated chunks)' };
  }
  return checkRunRequest(run, chunkId);
}
