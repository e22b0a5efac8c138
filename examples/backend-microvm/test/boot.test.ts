import { fileURLToPath } from 'node:url';
import { emptyCreateVmRequest } from '@cocos-manager/core';
import { devGuest, devGuestEnv, startTestManager, waitForDevGuest } from '@cocos-manager/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

// What a third-party author writes: the test kit starts a manager with the
// plugin and boots the dev guest on it.
describe('microvm backend with the test kit', () => {
  it('boots the dev guest', async () => {
    const guest = devGuest(fileURLToPath(new URL('../../../build/dev-guest', import.meta.url)));
    const { manager, stop } = await startTestManager({
      plugins: [plugin],
      env: {
        ...devGuestEnv(guest),
        MANAGER_TEE_BACKEND: 'microvm',
        MANAGER_QEMU_MACHINE: 'microvm',
        MANAGER_QEMU_CPU: 'max',
        MANAGER_QEMU_HOST_FWD_RANGE: '6495-6499',
        MANAGER_VM_POWERDOWN_TIMEOUT: '0s',
      },
    });
    try {
      const vm = await manager.service.create(emptyCreateVmRequest());
      expect((await waitForDevGuest(vm.forwardedPort))['AGENT_CVM_ID']).toBe(vm.id);
      expect((await manager.service.get(vm.id)).backend).toBe('microvm');
    } finally {
      await stop();
    }
  }, 180_000);
});
