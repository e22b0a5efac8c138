/** A named point of a create, after which a test (or a fault drill) may make it fail. */
export type CreateStep = 'reserve-port' | 'prepare-files' | 'prepare-backend' | 'prepare-boot' | 'spawn' | 'qmp-ready' | 'supervise';

/** Every create step, in the order a create passes them. */
export const CREATE_STEPS: readonly CreateStep[] = ['reserve-port', 'prepare-files', 'prepare-backend', 'prepare-boot', 'spawn', 'qmp-ready', 'supervise'];

/**
 * Called after each create step; throwing fails the create there, as a real
 * failure at that point would, and the create is rolled back. Core's default
 * does nothing; tests override the CREATE_FAULTS token.
 */
export interface CreateFaults {
  after(step: CreateStep, vmId: string): Promise<void> | void;
}

/** The CREATE_FAULTS of a normal manager: no faults. */
export const NO_CREATE_FAULTS: CreateFaults = { after: () => undefined };
