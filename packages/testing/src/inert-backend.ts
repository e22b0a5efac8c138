import { definePlugin, ManagerError, TEE_BACKEND, type AttestationPolicyDocument, type TeeBackend, type VmContext } from '@cocos-manager/core';

/** The inert backend's name: what MANAGER_TEE_BACKEND would select and what VM records carry. */
export const INERT_BACKEND_NAME = 'inert';

/**
 * A backend for transport tests that never runs a VM: the tests stop at
 * validation, or make `prepare` do what they need (wait, fail). It declares
 * itself a fallback (below any real backend's priority), so a manager whose
 * only backend it is picks it with no configuration.
 */
export function createInertBackendPlugin(
  options: {
    prepare?: (vm: VmContext) => Promise<void>;
    cleanup?: (vm: VmContext) => Promise<void>;
    attestationPolicy?: (vm: VmContext) => Promise<AttestationPolicyDocument>;
    /** The backend's name (default `inert`): a manager with another name does not load the VMs an `inert` one recorded. */
    name?: string;
  } = {},
) {
  return definePlugin({
    name: 'inert-backend',
    version: '0.0.0',
    coreVersionRange: '^0.1.0',
    provides: [TEE_BACKEND],
    register(container) {
      const backend: TeeBackend = {
        name: options.name ?? INERT_BACKEND_NAME,
        selection: { priority: -1, detect: 'fallback' },
        probe: async () => ({ available: true, reason: 'test' }),
        validate: async () => undefined,
        prepare: options.prepare ?? (async () => undefined),
        contribute: () => undefined,
        cleanup: options.cleanup ?? (async () => undefined),
        attestationPolicy:
          options.attestationPolicy ??
          (async () => {
            throw new ManagerError('ATTESTATION_UNAVAILABLE', 'no attestation');
          }),
      };
      container.register(TEE_BACKEND, { useValue: backend });
    },
  });
}

export const inertBackendPlugin = createInertBackendPlugin();
