import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import type { AgentMessageEvent } from '../api/agent-messages.js';
import type { AttestationPolicyDocument } from '../api/attestation-policy.js';
import type { AttestationPolicyFormat } from '../attestation/attestation-settings.js';
import type { PolicyEncoder } from '../attestation/policy-encoder.js';
import type { ManagerTracing } from '../api/observability.js';
import type { ProcessLauncher } from '../api/process-launcher.js';
import { CONFIG, CREATE_FAULTS, LOGGER, POLICY_ENCODER, PROCESS_LAUNCHER, TRACING } from '../api/tokens.js';
import type { HostStatus } from '../api/host-status.js';
import type { VmLifecycle } from '../api/vm-api.js';
import { coreSettings } from '../config/core-settings.js';
import type { ManagerConfig } from '../config/manager-config.js';
import {
  AGENT_HUB,
  BACKEND_REGISTRY,
  BOOT_REGISTRY,
  PORT_ALLOCATOR,
  STATE_STORE,
  type BackendChoice,
  type BootChoice,
  type PortPool,
} from '../internal-tokens.js';
import { CreateTransaction } from './lifecycle/create-transaction.js';
import { PeriodicTasks } from './lifecycle/periodic-tasks.js';
import { LaunchPlanner, PLACEHOLDER_VM_ID, previewDevices } from './lifecycle/launch-plan.js';
import { Reconciler, type ReconcileReport } from './lifecycle/reconciler.js';
import { Recovery } from './lifecycle/recovery.js';
import { ensurePrivateDir, ensureTrustedDir } from './state/private-dir.js';
import { StateLock } from './state/state-lock.js';
import type { StateStore } from './state/state-store.js';
import { Supervision } from './lifecycle/supervision.js';
import {
  emptyCreateVmRequest,
  type ConsoleLine,
  type CreatedVm,
  type CreateVmRequest,
  type CvmInfo,
  type VmEvent,
  type VmPage,
  type VmSummary,
} from '../api/vm-types.js';
import type { AgentHub } from './agent/agent-hub.js';
import { removeVm } from './lifecycle/vm-removal.js';
import type { CreateFaults } from '../api/create-faults.js';
import { VM_DEVICES, type VmRuntime } from './vm-runtime.js';
import type { VmDevice } from '../api/vm-device.js';
import { VmTable, vmPosition } from './vm-table.js';
import { pageOf, vmsPage } from '../transport-kit/vm-pages.js';
import { cvmInfoOf, refreshGuestStatus } from './vm-views.js';

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
  private readonly recovery: Recovery;
  private recovered: Promise<void> = Promise.resolve();
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
    @inject(STATE_STORE) store: StateStore,
    @inject(AGENT_HUB) agents: AgentHub,
  ) {
    const settings = config.read(coreSettings);
    this.rt = {
      settings,
      logger,
      store,
      ports,
      events: agents.events,
      agents,
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
    this.recovery = new Recovery(this.rt, this.supervision, this.reconciler);
    agents.bind((id) => this.rt.table.find(id) !== undefined);
  }

  onEvent(listener: (event: VmEvent) => void): () => void {
    return this.rt.events.onEvent(listener);
  }

  onConsole(listener: (line: ConsoleLine) => void): () => void {
    return this.rt.events.onConsole(listener);
  }

  onAgent(listener: (event: AgentMessageEvent) => void): () => void {
    return this.rt.events.onAgent(listener);
  }

  agentMessages(id: string): AgentMessageEvent[] {
    return this.rt.agents.history(this.rt.table.require(id).id);
  }

  /** Checks the run and state directories, takes the state directory's lock, loads the saved VMs and starts re-adopting them. */
  async init(): Promise<void> {
    await ensurePrivateDir(this.rt.planner.root, 'MANAGER_RUN_DIR');
    const { envMount, certsMount } = this.rt.settings.qemu;
    if (envMount !== '') await ensureTrustedDir(envMount, 'MANAGER_QEMU_ENV_MOUNT');
    if (certsMount !== '') await ensureTrustedDir(certsMount, 'MANAGER_QEMU_CERTS_MOUNT');
    await this.rt.store.init();
    await this.lock.acquire();
    // The QEMU spawner starts now, not on the first create; if it cannot, the first create tries again (and says why).
    this.rt.launcher.open?.().catch((err: unknown) => this.rt.logger.warn({ err: (err as Error).message }, 'the QEMU spawner did not start'));
    const loaded = this.recovery.load(); // before serving: records read, unrecorded QEMUs stopped, unowned VM dirs torn down
    // Re-adoption runs while the transports start: list/get show those VMs as 'adopting'; creates and removals wait for it.
    this.recovered = loaded.then(() => this.recovery.adopt());
    this.recovered.catch(() => undefined); // awaited by ready(); failing it fails the start
    await loaded;
    this.tasks.every(this.rt.settings.manager.reconcileInterval, 'reconcile', () => this.reconcile());
  }

  ready(): Promise<void> {
    return this.recovered;
  }

  async create(request: CreateVmRequest): Promise<CreatedVm> {
    await this.recovered;
    return this.creates.run(request);
  }

  async remove(id: string): Promise<void> {
    await this.recovered;
    // Listed once prepared, a VM may be asked to go before its create has answered: it goes once the create
    // has (torn down under it, it would lose its files and port while its QEMU starts); rolled back, it is gone.
    await this.known(id).created();
    const vm = this.known(id);
    await vm.once('removal', () => removeVm(this.rt, this.supervision, vm));
  }

  async get(id: string): Promise<VmSummary> {
    const adopting = this.recovery.adopting(id);
    if (adopting && !this.rt.table.find(id)) return adopting;
    const vm = this.rt.table.require(id);
    await refreshGuestStatus(vm);
    return vm.summary();
  }

  list(): VmSummary[] {
    const adopting = this.recovery.adoptingAll().filter((vm) => !this.rt.table.find(vm.id));
    return [...adopting, ...this.rt.table.sorted().map((vm) => vm.summary())];
  }

  listPage(pageSize: number, pageToken: string): VmPage {
    if (pageSize === 0 && pageToken === '') return vmsPage(this.list(), 0, '');
    // While a restart re-adopts VMs, some are not in the table yet: the page is cut from every summary.
    if (this.recovery.adoptingAll().some((vm) => !this.rt.table.find(vm.id))) return vmsPage(this.list(), pageSize, pageToken);
    const page = pageOf(this.rt.table.sorted(), pageSize, pageToken, vmPosition);
    return { vms: page.items.map((vm) => vm.summary()), nextPageToken: page.nextPageToken, total: page.total };
  }

  cvmInfo(id: string): CvmInfo {
    return cvmInfoOf(this.known(id), this.rt.settings);
  }

  async attestationPolicy(id: string, format?: AttestationPolicyFormat): Promise<Uint8Array> {
    return this.policies.encode(await this.attestationPolicyDocument(id), format);
  }

  async attestationPolicyDocument(id: string): Promise<AttestationPolicyDocument> {
    const vm = this.known(id);
    return vm.plan.backend.attestationPolicy(vm.plan.context);
  }

  async previewAttestationPolicy(): Promise<AttestationPolicyDocument> {
    const plan = await this.previewPlan();
    return plan.backend.attestationPolicy(plan.context);
  }

  async consoleOutput(id: string, maxBytes = 64 * 1024): Promise<string> {
    return this.known(id).console.tail(maxBytes);
  }

  async previewArgv(): Promise<string[]> {
    return this.rt.planner.command(await this.previewPlan()).argv();
  }

  async shutdown(options: { removeVms: boolean }): Promise<void> {
    await this.recovered.catch(() => undefined);
    this.tasks.stopAll();
    this.supervision.stopRetention();
    const vms = [...this.rt.table.all()];
    if (options.removeVms) {
      await Promise.allSettled(vms.map((vm) => this.remove(vm.id)));
    } else {
      for (const vm of vms) {
        this.supervision.detach(vm);
        await vm.flushed().then(() => vm.stopPersisting()); // a failing write is tried once more, then left as last saved
      }
      this.rt.logger.info({ vms: vms.length }, 'leaving VMs running for the next manager to re-adopt');
    }
    await this.rt.launcher.close?.();
    await this.lock.release();
  }

  portUsage(): { inUse: number; size: number } {
    return { inUse: this.rt.ports.inUse, size: this.rt.ports.size };
  }

  async hostStatus(): Promise<HostStatus> {
    const backend = this.rt.backends.current();
    return {
      backend: { name: backend.name, probe: this.rt.backends.currentProbe() },
      boot: this.rt.boots.choose().name,
      kvm: this.rt.settings.qemu.enableKvm,
      vmSlots: { used: this.list().length, size: this.rt.settings.manager.maxVms },
      ports: this.portUsage(),
      devices: this.rt.devices.flatMap((device) => (device.status ? [device.status()] : [])),
    };
  }

  async reconcile(): Promise<ReconcileReport> {
    await this.recovered; // a VM being re-adopted is not an orphan
    return this.reconciler.reconcile();
  }

  /** The VM, once re-adopted: until then its QEMU is not checked, so nothing is said about it. */
  private known(id: string) {
    this.recovery.checkActionable(id);
    return this.rt.table.require(id);
  }

  private async previewPlan() {
    const backend = await this.rt.backends.choose({ probe: false });
    const range = this.rt.settings.qemu.hostFwdRange;
    return previewDevices(this.rt.planner.plan(PLACEHOLDER_VM_ID, range.first, emptyCreateVmRequest(), backend, this.rt.boots.choose()), this.rt.devices);
  }
}
