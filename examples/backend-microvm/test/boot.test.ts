import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emptyCreateVmRequest } from '@cocos-manager/core';
import { devGuest, devGuestEnv, startTestManager, waitForDevGuest } from '@cocos-manager/testing';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

/** A process that keeps one host core busy: the load under which a TCG microvm guest cannot calibrate its TSC against the PIT. */
function busyCore(): { stop(): void } {
  const child = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  return { stop: () => child.kill('SIGKILL') };
}

// What a third-party author writes: the test kit starts a manager with the
// plugin and boots the dev guest on it.
describe('microvm backend with the test kit', () => {
  it('boots the dev guest, also while the host is busy', async () => {
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
    const load = [busyCore(), busyCore()];
    try {
      const vm = await manager.service.create(emptyCreateVmRequest());
      expect((await waitForDevGuest(vm.forwardedPort, 60_000))['AGENT_CVM_ID']).toBe(vm.id);
      expect((await manager.service.get(vm.id)).backend).toBe('microvm');
      expect(manager.service.cvmInfo(vm.id).kernelCmd).toMatch(/^quiet console=null tsc_early_khz=[1-9][0-9]*$/);
    } finally {
      for (const hog of load) hog.stop();
      await stop();
    }
  }, 180_000);
});
