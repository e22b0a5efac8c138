import { definePlugin, ManagerError, TEE_BACKEND, type TeeBackend } from '@cocos-manager/core';

/**
 * A backend for transport tests that never runs a VM: they stop at
 * validation or fail on purpose. A request whose agent_certs_token is "slow"
 * stands for a create that outlives MANAGER_GRPC_TIMEOUT.
 */
export const inertBackendPlugin = definePlugin({
  name: 'inert-backend',
  version: '0.0.0',
  coreVersionRange: '^0.1.0',
  provides: [TEE_BACKEND],
  register(container) {
    const backend: TeeBackend = {
      name: 'plain',
      probe: async () => ({ available: true, reason: 'test' }),
      validate: async () => undefined,
      prepare: async (vm) => {
        if (vm.request.agentCertsToken === 'slow') {
          await new Promise((r) => setTimeout(r, 600));
          throw new Error('gave up');
        }
      },
      contribute: () => undefined,
      cleanup: async () => undefined,
      attestationPolicy: async () => {
        throw ManagerError.failedPrecondition('no attestation');
      },
    };
    container.register(TEE_BACKEND, { useValue: backend });
  },
});
