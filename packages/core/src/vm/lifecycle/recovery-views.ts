import type { VmStateRecord } from '../state/state-store.js';
import { VmState, type VmSummary } from '../../api/vm-types.js';

/** What the API shows of a saved VM before its QEMU was checked: the record, in state 'adopting'. */
export function adoptingView(r: VmStateRecord): VmSummary {
  return {
    id: r.id,
    state: VmState.Adopting,
    forwardedPort: r.hostPort,
    pid: r.pid,
    backend: r.backend,
    boot: r.boot,
    createdAt: r.createdAt,
    ttlDeadline: r.ttlDeadline,
    exit: r.exit,
    guestStatus: null,
    adopted: true,
    devices: r.devices ?? [],
  };
}

/**
 * A saved VM this manager refused to re-adopt (its backend or boot strategy
 * is not loaded): shown failed with why, not adopted, its record and files
 * kept for a manager that loads them.
 */
export function refusedView(r: VmStateRecord, livePid: number | null, reason: string): VmSummary {
  return {
    ...adoptingView(r),
    state: VmState.Failed,
    pid: livePid,
    exit: { code: null, signal: null, reason },
    adopted: false,
    devices: [],
  };
}

/** Why a record cannot be re-adopted by this manager: the plugins it names that are not loaded (null when all are). */
export function missingPlugins(r: VmStateRecord, loaded: { backend: boolean; boot: boolean }): string | null {
  const missing = [...(loaded.backend ? [] : [`backend "${r.backend}"`]), ...(loaded.boot ? [] : [`boot strategy "${r.boot}"`])];
  return missing.length === 0 ? null : missing.join(' and ');
}
