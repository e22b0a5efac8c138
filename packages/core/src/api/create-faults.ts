import { ManagerError } from '../errors.js';
/** A named point of a create, after which a test (or a fault drill) may make it fail. */
export type CreateStep = 'reserve-port' | 'prepare-files' | 'prepare-backend' | 'prepare-boot' | 'spawn' | 'qmp-ready' | 'supervise';

/** Every create step, in the order a create passes them. */
export const CREATE_STEPS: readonly CreateStep[] = ['reserve-port', 'prepare-files', 'prepare-backend', 'prepare-boot', 'spawn', 'qmp-ready', 'supervise'];

/**
 * A named point of a removal: `remove-stopping` (state stopping, QEMU still
 * runs), `remove-stopped` (QEMU gone, nothing given back yet),
 * `remove-released` (torn down, the record still on disk).
 */
export type RemoveStep = 'remove-stopping' | 'remove-stopped' | 'remove-released';

/** Every removal step, in order. */
export const REMOVE_STEPS: readonly RemoveStep[] = ['remove-stopping', 'remove-stopped', 'remove-released'];

/** A point of a create or a removal a fault can follow. */
export type FaultStep = CreateStep | RemoveStep;

/**
 * Called after each create step (and removal step); throwing fails the
 * create there, as a real failure at that point would, and the create is
 * rolled back. Core's default does nothing; tests override the CREATE_FAULTS
 * token.
 */
export interface CreateFaults {
  after(step: FaultStep, vmId: string): Promise<void> | void;
}

/** The CREATE_FAULTS of a normal manager: no faults. */
export const NO_CREATE_FAULTS: CreateFaults = { after: () => undefined };

/**
 * A fault drill for end-to-end tests of the crash windows: the manager
 * process dies (SIGKILL to itself, as `kill -9` would) right after `step` —
 * after `spawn`: QEMU runs but its pid is not yet recorded. Only the binary
 * installs it, and only when MANAGER_TEST_HOOKS=1 (see `createFaultsFromEnv`).
 */
export function crashAfter(step: FaultStep): CreateFaults {
  return {
    after(done) {
      if (done === step) process.kill(process.pid, 'SIGKILL');
    },
  };
}

/**
 * The fault drill the environment asks for: MANAGER_TEST_CRASH_AFTER=<step> (a create or removal step),
 * honoured only with MANAGER_TEST_HOOKS=1 (null otherwise). An unknown step
 * is an error naming the steps.
 */
export function createFaultsFromEnv(env: Readonly<Record<string, string | undefined>>): CreateFaults | null {
  if (env['MANAGER_TEST_HOOKS'] !== '1') return null;
  const step = env['MANAGER_TEST_CRASH_AFTER'] ?? '';
  if (step === '') return null;
  const steps: readonly string[] = [...CREATE_STEPS, ...REMOVE_STEPS];
  if (!steps.includes(step)) {
    throw new ManagerError('CONFIG_INVALID', `MANAGER_TEST_CRASH_AFTER: "${step}" is not a create or removal step; expected one of ${steps.join(', ')}`);
  }
  return crashAfter(step as FaultStep);
}
