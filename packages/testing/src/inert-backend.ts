import { definePlugin, ManagerError, TEE_BACKEND, type TeeBackend, type VmContext } from '@cocos-manager/core';

/**
 * A backend for transport tests that never runs a VM: the tests stop at
 * validation, or make `prepare` do what they need (wait, fail).
 */
export function createInertBackendPlugin(options: { prepare?: (vm: VmContext) => Promise<void> } = {}) {
  return definePlugin({
    name: 'inert-backend',
    version: '0.0.0',
    coreVersionRange: '^0.1.0',
    provides: [TEE_BACKEND],
    register(container) {
      const backend: TeeBackend = {
        name: 'plain',
        probe: async () => ({ available: true, reason: 'test' }),
        validate: async () => undefined,
        prepare: options.prepare ?? (async () => undefined),
        contribute: () => undefined,
        cleanup: async () => undefined,
        attestationPolicy: async () => {
          throw ManagerError.failedPrecondition('no attestation');
        },
      };
      container.register(TEE_BACKEND, { useValue: backend });
    },
  });
}

export const inertBackendPlugin = createInertBackendPlugin();
