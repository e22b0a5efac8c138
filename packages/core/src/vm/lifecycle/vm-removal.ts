import { stopProcess } from './stop-ladder.js';
import type { Supervision } from './supervision.js';
import { VmState } from '../../api/vm-types.js';
import type { VmInstance } from '../vm-instance.js';
import type { VmRuntime } from '../vm-runtime.js';

/**
 * Removes one VM: stops its QEMU through the stop ladder (when it still
 * runs), releases what it holds, forgets its state and its entry. Resolves
 * once QEMU is gone.
 */
export async function removeVm(rt: VmRuntime, supervision: Supervision, vm: VmInstance): Promise<void> {
  supervision.cancelTtl(vm);
  const proc = vm.process;
  if (proc && vm.exit === null) {
    vm.transition(VmState.Stopping, 'stopping QEMU');
    await rt.faults.after('remove-stopping', vm.id);
    const { powerdownTimeout: powerdownMs, stopTimeout: stopMs } = rt.settings.manager;
    await rt.tracing.step('vm.stop', () => stopProcess(proc, vm.qmp, { powerdownMs, stopMs }, vm.logger, vm), { 'vm.id': vm.id });
  }
  await rt.faults.after('remove-stopped', vm.id);
  await vm.teardown.run('VM removed');
  await rt.faults.after('remove-released', vm.id);
  await vm.forget();
  rt.table.delete(vm.id);
  rt.agents.forget(vm.id);
  vm.logger.info('VM removed');
}
