import type { Logger } from 'pino';
import type { CreateFaults } from '../api/create-faults.js';
import type { ManagerTracing } from '../api/observability.js';
import type { ProcessLauncher } from '../api/process-launcher.js';
import type { VmDevice } from '../api/vm-device.js';
import { createToken } from '../tokens.js';
import type { coreSettings } from '../config/core-settings.js';
import type { SliceValues } from '../api/settings.js';
import type { BackendChoice, BootChoice, PortPool } from '../internal-tokens.js';
import type { LaunchPlanner } from './lifecycle/launch-plan.js';
import type { StateStore } from './state/state-store.js';
import type { AgentHub } from './agent/agent-hub.js';
import type { VmEventBus } from './vm-events.js';
import type { VmTable } from './vm-table.js';

/** What the lifecycle's rooms share: one per VM service. */
export interface VmRuntime {
  readonly settings: SliceValues<typeof coreSettings>;
  readonly logger: Logger;
  readonly store: StateStore;
  readonly ports: PortPool;
  readonly events: VmEventBus;
  /** The VMs' agent messages (histories; they stream on `events`). */
  readonly agents: AgentHub;
  readonly table: VmTable;
  readonly launcher: ProcessLauncher;
  readonly tracing: ManagerTracing;
  readonly planner: LaunchPlanner;
  readonly backends: BackendChoice;
  readonly boots: BootChoice;
  readonly faults: CreateFaults;
  /** Every VM_DEVICE provider, in registration order. */
  readonly devices: readonly VmDevice[];
}

/** The VM_DEVICE providers as one list (the kernel registers it; empty when no plugin provides one). */
export const VM_DEVICES = createToken<readonly VmDevice[]>('kernel.vm-devices');
