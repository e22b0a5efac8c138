import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import type { AttestationPolicyDocument } from '../api/attestation-policy.js';
import type { AttestationPolicyFormat } from '../attestation/attestation-settings.js';
import type { PolicyEncoder } from '../attestation/policy-encoder.js';
import type { ManagerTracing } from '../api/observability.js';
import type { ProcessLauncher } from '../api/process-launcher.js';
import { CONFIG, CREATE_FAULTS, LOGGER, POLICY_ENCODER, PROCESS_LAUNCHER, TRACING } from '../api/tokens.js';
import type { VmLifecycle } from '../api/vm-api.js';
import { coreSettings, resolveStateDir } from '../config/core-settings.js';
import type { ManagerConfig } from '../config/manager-config.js';
import { BACKEND_REGISTRY, BOOT_REGISTRY, PORT_ALLOCATOR, type BackendChoice, type BootChoice, type PortPool } from '../kernel/internal-tokens.js';
import { CreateTransaction } from './create-transaction.js';
import { PeriodicTasks } from './periodic-tasks.js';
import { LaunchPlanner, PLACEHOLDER_VM_ID, previewDevices } from './launch-plan.js';
import { Reconciler, type ReconcileReport } from './reconciler.js';
import { Recovery } from './recovery.js';
import { ensurePrivateDir } from './private-dir.js';
import { StateLock } from './state-lock.js';
import { StateStore } from './state-store.js';
import { Supervision } from './supervision.js';
import { emptyCreateVmRequest, VmState, type ConsoleLine, type CreatedVm, type CreateVmRequest, type CvmInfo, type VmEvent, type VmSummary } from './types.js';
import { VmEventBus } from './vm-events.js';
import { removeVm } from './vm-removal.js';
import type { CreateFaults } from '../api/create-faults.js';
import { VM_DEVICES, type VmRuntime } from './vm-runtime.js';
import type { VmDevice } from '../api/vm-device.js';
import { VmTable } from './vm-table.js';

/**
 * The VM lifecycle as the transports see it (VmApi): a thin facade over its
 * rooms — create transaction, supervision, stop ladder, recovery, reconciler
 * — which share one VmRuntime.
 */
@injectable()
export class VmService implements VmLifecycle {
  private readonly rt: VmRuntime;
  private readonly supervision: Supervision;
  private readonly creates: CreateTransaction;
  private readonly reconciler: Reconciler;
  private readonly lock: StateLock;
  private readonly tasks: PeriodicTasks;

  constructor(
    @inject(CONFIG) config: ManagerConfig,
    @inject(LOGGER) logger: Logger,
    @inject(BACKEND_REGISTRY) backends: BackendChoice,
    @inject(BOOT_REGISTRY) boots: BootChoice,
    @inject(PORT_ALLOCATOR) ports: PortPool,
    @inject(TRACING) tracing: ManagerTracing,
    @inject(PROCESS_LAUNCHER) launcher: ProcessLauncher,
    @inject(CREATE_FAULTS) faults: CreateFaults,
    @inject(POLICY_ENCODER) private readonly policies: PolicyEncoder,
    @inject(VM_DEVICES) devices: readonly VmDevice[],
  ) {
    const settings = config.read(coreSettings);
    this.rt = {
      settings,
      logger,
      store: new StateStore(resolveStateDir(settings.manager.stateDir)),
      ports,
      events: new VmEventBus(),
      table: new VmTable(),
      launcher,
      tracing,
      planner: new LaunchPlanner(settings),
      backends,
      boots,
      faults,
      devices,
    };
    this.tasks = new PeriodicTasks(logger);
    this.supervision = new Supervision(this.rt, (id) => this.remove(id));
    this.creates = new CreateTransaction(this.rt, this.supervision);
    this.reconciler = new Reconciler(this.rt);
    this.lock = new StateLock(this.rt.store.dir);
  }

  onEvent(listener: (event: VmEvent) => void): () => void {
    return this.rt.events.onEvent(listener);
  }

  onConsole(listener: (line: ConsoleLine) => void): () => void {
    return this.rt.events.onConsole(listener);
  }

  /** Checks the run and state directories, takes the state directory's lock, re-adopts. */
  async init(): Promise<void> {
    await ensurePrivateDir(this.rt.planner.root, 'MANAGER_RUN_DIR');
    await this.rt.store.init();
    await this.lock.acquire();
    await new Recovery(this.rt, this.supervision).recoverAll();
    this.tasks.every(this.rt.settings.manager.reconcileInterval, 'reconcile', () => this.reconcile());
  }

  create(request: CreateVmRequest): Promise<CreatedVm> {
    return this.creates.run(request);
  }

  async remove(id: string): Promise<void> {
    const vm = this.rt.table.require(id);
    await vm.once('removal', () => removeVm(this.rt, this.supervision, vm));
  }

  async get(id: string): Promise<VmSummary> {
    const vm = this.rt.table.require(id);
    if (vm.state === VmState.Running && vm.qmp?.connected) {
      try {
        vm.guestStatus = (await vm.qmp.execute<{ status: string }>('query-status', undefined, 1000)).status;
      } catch {
        // QEMU is busy or going away; report the last known status.
      }
    }
    return vm.summary();
  }

  list(): VmSummary[] {
    return this.rt.table.sorted().map((vm) => vm.summary());
  }

  cvmInfo(id: string): CvmInfo {
    const vm = this.rt.table.require(id);
    const { qemu, manager } = this.rt.settings;
    const base: CvmInfo = {
      id,
      ovmfVersion: qemu.ovmfVersion,
      cpuNum: qemu.smpCount,
      cpuType: qemu.cpu,
      kernelCmd: vm.plan.context.kernelCommandLine,
      eosVersion: manager.eosVersion,
    };
    return vm.plan.backend.cvmInfo ? vm.plan.backend.cvmInfo(vm.plan.context, base) : base;
  }

  async attestationPolicy(id: string, format?: AttestationPolicyFormat): Promise<Uint8Array> {
    return this.policies.encode(await this.attestationPolicyDocument(id), format);
  }

  async attestationPolicyDocument(id: string): Promise<AttestationPolicyDocument> {
    const vm = this.rt.table.require(id);
    return vm.plan.backend.attestationPolicy(vm.plan.context);
  }

  async previewAttestationPolicy(): Promise<AttestationPolicyDocument> {
    const plan = await this.previewPlan();
    return plan.backend.attestationPolicy(plan.context);
  }

  async consoleOutput(id: string, maxBytes = 64 * 1024): Promise<string> {
    return this.rt.table.require(id).console.tail(maxBytes);
  }

  async previewArgv(): Promise<string[]> {
    return this.rt.planner.command(await this.previewPlan()).argv();
  }

  async shutdown(options: { removeVms: boolean }): Promise<void> {
    this.tasks.stopAll();
    this.supervision.stopRetention();
    const vms = [...this.rt.table.all()];
    if (options.removeVms) {
      await Promise.allSettled(vms.map((vm) => this.remove(vm.id)));
    } else {
      for (const vm of vms) {
        this.supervision.detach(vm);
        await vm.flushed();
      }
      this.rt.logger.info({ vms: vms.length }, 'leaving VMs running for the next manager to re-adopt');
    }
    await this.lock.release();
  }

  portUsage(): { inUse: number; size: number } {
    return { inUse: this.rt.ports.inUse, size: this.rt.ports.size };
  }

  reconcile(): Promise<ReconcileReport> {
    return this.reconciler.reconcile();
  }

  private async previewPlan() {
    const backend = await this.rt.backends.choose({ probe: false });
    const range = this.rt.settings.qemu.hostFwdRange;
    return previewDevices(this.rt.planner.plan(PLACEHOLDER_VM_ID, range.first, emptyCreateVmRequest(), backend, this.rt.boots.choose()), this.rt.devices);
  }
}
