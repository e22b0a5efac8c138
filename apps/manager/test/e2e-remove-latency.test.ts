import { afterAll, describe, expect, it } from 'vitest';
import { processState, startManager, type CreatedVm, type RunningManager, type WireVm } from './harness.js';

// RemoveVm of a guest that is still booting must not wait out the ACPI
// power-down (MANAGER_VM_POWERDOWN_TIMEOUT, 10 s here as by default): the
// guest cannot hear it yet. The timing figure is in bench/remove-latency.mjs;
// this only checks that the wait is skipped and QEMU is gone at the answer.
describe('RemoveVm of a booting guest (real QEMU)', () => {
  let m: RunningManager | undefined;
  afterAll(async () => {
    await m?.dispose();
  });

  it('answers without the power-down wait, with QEMU already gone', async () => {
    m = await startManager('6720-6724', { MANAGER_VM_POWERDOWN_TIMEOUT: '10s' });
    const created = await m.call<CreatedVm>('CreateVm', {});
    const { pid } = await m.call<WireVm>('GetVm', { id: created.cvm_id });
    expect(processState(pid)).not.toBeNull();

    const started = performance.now();
    await m.call('RemoveVm', { cvm_id: created.cvm_id });
    const elapsed = performance.now() - started;
    expect(processState(pid)).toBeNull(); // not running, not a zombie
    expect(elapsed).toBeLessThan(5000);
    const skipped = m
      .output()
      .split('\n')
      .find((l) => l.includes(created.cvm_id) && l.includes('no ACPI power-down'));
    expect(skipped).toContain('still booting');
  });
});
