import { emptyCreateVmRequest } from '../../api/vm-types.js';
import type { VmRuntime } from '../vm-runtime.js';
import { VmTeardown, type TeardownReport } from './vm-teardown.js';

/**
 * Tears down what a VM no record names left behind (a manager killed in the
 * middle of its create): its directory and shares, and the boot strategy's
 * and backend's per-VM files (a disk at MANAGER_QEMU_DST_DISK_FILE) as the
 * current configuration places them. No port: it holds none in this manager.
 */
export function tearDownOrphan(rt: VmRuntime, id: string, why: string): Promise<TeardownReport> {
  const plan = rt.planner.plan(id, 0, emptyCreateVmRequest(), rt.backends.current(), rt.boots.choose());
  const teardown = new VmTeardown(plan, rt.ports, rt.logger.child({ vm: id }));
  teardown.hold('boot', 'backend', 'files');
  return teardown.run(why);
}
