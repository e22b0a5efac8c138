import { ManagerError } from '../../errors.js';

/** The step of an atomic state write that failed. */
export type StateWriteStep = 'create' | 'write' | 'fsync' | 'close' | 'rename' | 'directory fsync';

/** Why state writes fail, as the metric labels them. */
export type StateWriteFailure = 'disk-full' | 'other';

/** errno codes that mean the state disk has no room (blocks or quota) for the record. */
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

export function stateWriteFailureOf(err: unknown): StateWriteFailure {
  return DISK_FULL.has(errnoOf(err) ?? '') ? 'disk-full' : 'other';
}

/**
 * A failed state write as the catalogue error a client may see: the state
 * disk is full (STATE_DISK_FULL, RESOURCE_EXHAUSTED), or the write failed
 * otherwise (STATE_WRITE_FAILED, INTERNAL). The message names the errno and
 * the step, never a host path; the original error, with its path, is the
 * cause and the operator's detail (for the log).
 */
export function stateWriteError(err: unknown, step: StateWriteStep): ManagerError {
  if (err instanceof ManagerError) return err;
  const errno = errnoOf(err) ?? 'unknown error';
  if (stateWriteFailureOf(err) === 'disk-full') {
    return new ManagerError(
      'STATE_DISK_FULL',
      `the state disk is full (${errno} at ${step} of the VM's state record): free space on the filesystem of MANAGER_STATE_DIR`,
      { cause: err, detail: (err as Error).message },
    );
  }
  return new ManagerError('STATE_WRITE_FAILED', `writing the VM's state record failed (${errno} at ${step})`, { cause: err, detail: (err as Error).message });
}

function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}
