import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import type { BootStrategy } from '../api/boot-strategy.js';
import { policyJsonBytes, type AttestationPolicyDocument } from '../api/attestation-policy.js';
import type { TeeBackend } from '../api/tee-backend.js';
import { CONFIG, LOGGER, TRACING } from '../api/tokens.js';
import type { ManagerTracing } from '../api/observability.js';
import type { VmLifecycle } from '../api/vm-api.js';
import { VmContext } from '../api/vm-context.js';
import { resolveRunDir, resolveStateDir } from '../config/core-settings.js';
import type { PortRange } from '../config/formats.js';
import type { ManagerConfig } from '../config/manager-config.js';
import { ManagerError } from '../errors.js';
import type { BackendRegistry } from '../kernel/backend-registry.js';
import type { BootRegistry } from '../kernel/boot-registry.js';
import { BACKEND_REGISTRY, BOOT_REGISTRY, PORT_ALLOCATOR } from '../kernel/internal-tokens.js';
import { QemuCommand } from '../qemu/command.js';
import { EnableKvm } from '../qemu/elements/accelerator.js';
import { Cpu, Smp } from '../qemu/elements/cpu.js';
import { VirtioNetPci } from '../qemu/elements/device.js';
import { Monitor, NoGraphic } from '../qemu/elements/display.js';
import { Machine } from '../qemu/elements/machine.js';
import { Memory } from '../qemu/elements/memory.js';
import { UserNetdev } from '../qemu/elements/network.js';
import { LocalFsdev, Virtio9pDevice } from '../qemu/elements/shared-fs.js';
import { GuestName, NoReboot, QmpSocket } from '../qemu/elements/supervision.js';
import { AdoptedProcess } from './adopted-process.js';
import { ConsoleLog } from './console-log.js';
import { ConsoleFollower } from './console-follower.js';
import type { PortAllocator } from './port-allocator.js';
import { checkIdentity } from './process-identity.js';
import { QemuProcess } from './qemu-process.js';
import { QmpClient } from './qmp-client.js';
import { validateCreateRequest } from './request-validation.js';
import { STATE_VERSION, StateStore, type VmStateRecord } from './state-store.js';
import type { SupervisedProcess } from './supervised-process.js';
import { TtlTimer } from './ttl-timer.js';
import { emptyCreateVmRequest, VmState, type CreatedVm, type CreateVmRequest, type ConsoleLine, type CvmInfo, type VmEvent, type VmExit, type VmSummary } from './types.js';
import { createVmDir, removeVmFiles, vmLayout, writeShares, type VmLayout } from './vm-files.js';

/** The VM id `qemu-args` shows: a placeholder, since no VM is created. */
export const PLACEHOLDER_VM_ID = '00000000-0000-0000-0000-000000000000';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CONSOLE_ROTATION_CHECK_MS = 2000;

/** The `-name` a VM's QEMU carries: what identifies it in /proc after a restart. */
export function guestName(id: string): string {
  return `cvm-${id}`;
}

interface VmRecord {
  readonly id: string;
  readonly context: VmContext;
  readonly layout: VmLayout;
  readonly backend: TeeBackend;
  readonly boot: BootStrategy;
  readonly createdAt: Date;
  readonly logger: Logger;
  readonly console: ConsoleLog;
  readonly adopted: boolean;
  state: VmState;
  process: SupervisedProcess | null;
  qmp: QmpClient | null;
  ttlDeadline: Date | null;
  ttl: TtlTimer | null;
  exit: VmExit | null;
  guestStatus: string | null;
  /** Port and files released, once (the exit handler and removal both ask). */
  releasing: Promise<void> | null;
  removal: Promise<void> | null;
  follower: ConsoleFollower | null;
  /** State writes in order; nothing is written once the VM is forgotten. */
  persisting: Promise<void>;
  forgotten: boolean;
}

/** Undo steps of a create in progress, run in reverse if it fails. */
class Rollback {
  private readonly steps: Array<() => Promise<unknown> | unknown> = [];
  add(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }
  async run(logger: Logger): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step();
      } catch (err) {
        logger.error({ err }, 'rollback step failed');
      }
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true if `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

/**
 * The VM lifecycle: create (transactionally), supervise, stop, remove,
 * persist, re-adopt after a restart, sweep orphans; and the answers the
 * transports serve.
 */
@injectable()
export class VmService implements VmLifecycle {
  private readonly vms = new Map<string, VmRecord>();
  private readonly events = new EventEmitter<{ event: [VmEvent]; console: [ConsoleLine] }>();
  private readonly creating = new Map<string, number | null>();
  private readonly store: StateStore;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    @inject(CONFIG) private readonly config: ManagerConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(BACKEND_REGISTRY) private readonly backends: BackendRegistry,
    @inject(BOOT_REGISTRY) private readonly boots: BootRegistry,
    @inject(PORT_ALLOCATOR) private readonly ports: PortAllocator,
    @inject(TRACING) private readonly tracing: ManagerTracing,
  ) {
    this.events.setMaxListeners(0);
    this.store = new StateStore(resolveStateDir(config.get<string>('manager.stateDir')));
  }

  /** Subscribes to lifecycle events; returns the unsubscribe function. */
  onEvent(listener: (event: VmEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  /** Subscribes to console lines of every running VM; returns the unsubscribe function. */
  onConsole(listener: (line: ConsoleLine) => void): () => void {
    this.events.on('console', listener);
    return () => this.events.off('console', listener);
  }

  /** Loads state, re-adopts surviving VMs, starts the background sweeps. Before serving. */
  async init(): Promise<void> {
    await this.store.init();
    await this.recover();
    const every = (ms: number, task: () => Promise<unknown>, what: string) => {
      const timer = setInterval(() => void task().catch((err: unknown) => this.logger.error({ err }, `${what} failed`)), ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.config.get<number>('manager.reconcileInterval'), () => this.reconcile(), 'reconcile');
    every(CONSOLE_ROTATION_CHECK_MS, () => this.rotateConsoles(), 'console rotation');
  }

  async create(request: CreateVmRequest): Promise<CreatedVm> {
    const { ttlMs } = validateCreateRequest(request);
    const backend = this.backends.current();
    const boot = this.boots.choose();
    const maxVms = this.config.get<number>('manager.maxVms');
    if (this.activeCount() + this.creating.size >= maxVms) {
      throw ManagerError.resourceExhausted(`MANAGER_MAX_VMS=${maxVms} VMs are already running; remove one first`, 'vm-capacity');
    }
    const id = randomUUID();
    this.creating.set(id, null);
    const log = this.logger.child({ vm: id });
    const rollback = new Rollback();
    try {
      const hostPort = await this.ports.allocate();
      this.creating.set(id, hostPort);
      rollback.add(() => this.ports.release(hostPort));

      const layout = this.layout(id);
      await this.tracing.step('vm.prepare-files', async () => {
        await createVmDir(layout.dir);
        rollback.add(() => removeVmFiles(layout));
        await writeShares(layout, id, request);
      }, { 'vm.id': id });

      const context = new VmContext(id, layout.dir, hostPort, request, this.kernelCommandLine(request));
      await this.tracing.step('vm.prepare-backend', () => this.step(`preparing the ${backend.name} backend`, () => backend.prepare(context)), { 'vm.id': id, 'vm.backend': backend.name });
      rollback.add(() => backend.cleanup(context));
      await this.tracing.step('vm.provision-boot', () => this.step(`preparing ${boot.name} boot`, () => boot.prepare(context)), { 'vm.id': id, 'vm.boot': boot.name });
      rollback.add(() => boot.cleanup(context));
      const argv = this.buildCommand(context, backend, boot).argv();

      const record = this.newRecord(id, context, layout, backend, boot, log, {
        adopted: false,
        createdAt: new Date(),
        ttlDeadline: ttlMs === null ? null : new Date(Date.now() + ttlMs),
      });
      this.vms.set(id, record);
      rollback.add(() => this.vms.delete(id));
      rollback.add(async () => {
        record.forgotten = true;
        await record.persisting;
        await this.store.remove(id);
      });
      this.transition(record, VmState.Starting, 'launching QEMU');
      log.info({ argv, port: hostPort, backend: backend.name, boot: boot.name }, 'launching QEMU');

      const proc = await this.tracing.step('vm.spawn', () => this.step('starting QEMU', () => QemuProcess.start(argv, layout.consoleLog)), { 'vm.id': id });
      rollback.add(async () => {
        await proc.kill('SIGKILL');
        await proc.exited;
      });
      record.process = proc;
      this.persist(record);
      record.qmp = await this.tracing.step('vm.ready', () => this.awaitQmp(proc, layout.qmpSocket), { 'vm.id': id });
      this.watchQmp(record, record.qmp);

      // From here on the VM is ours to supervise; nothing is rolled back.
      void proc.exited.then((exit) => this.onExit(record, exit));
      await this.followConsole(record, true);
      this.transition(record, VmState.Running, `QEMU pid ${proc.pid} is up`);
      this.armTtl(record);
      // Durable before the client hears of it: a restart right after still knows the VM.
      await record.persisting;
      return { id, forwardedPort: hostPort };
    } catch (err) {
      await rollback.run(log);
      if (err instanceof ManagerError) {
        log.warn({ code: err.code, reason: err.message }, 'create failed; rolled back');
        throw err;
      }
      log.error({ err }, 'create failed; rolled back');
      throw ManagerError.internal(`creating the VM failed: ${(err as Error).message}`, err);
    } finally {
      this.creating.delete(id);
    }
  }

  async remove(id: string): Promise<void> {
    const record = this.require(id);
    record.removal ??= this.stopAndForget(record);
    await record.removal;
  }

  /** One VM, with the guest's run state freshly asked of QEMU. */
  async get(id: string): Promise<VmSummary> {
    const record = this.require(id);
    if (record.state === VmState.Running && record.qmp?.connected) {
      try {
        const status = await record.qmp.execute<{ status: string }>('query-status', undefined, 1000);
        record.guestStatus = status.status;
      } catch {
        // QEMU is busy or going away; report the last known status.
      }
    }
    return this.summarize(record);
  }

  list(): VmSummary[] {
    return [...this.vms.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map((r) => this.summarize(r));
  }

  cvmInfo(id: string): CvmInfo {
    const record = this.require(id);
    const base: CvmInfo = {
      id,
      ovmfVersion: this.config.get<string>('qemu.ovmfVersion'),
      cpuNum: this.config.get<number>('qemu.smpCount'),
      cpuType: this.config.get<string>('qemu.cpu'),
      kernelCmd: record.context.kernelCommandLine,
      eosVersion: this.config.get<string>('manager.eosVersion'),
    };
    return record.backend.cvmInfo ? record.backend.cvmInfo(record.context, base) : base;
  }

  /** The attestation policy of a VM as JSON bytes (the AttestationPolicy RPC's `info`). */
  async attestationPolicy(id: string): Promise<Uint8Array> {
    return policyJsonBytes(await this.attestationPolicyDocument(id));
  }

  async attestationPolicyDocument(id: string): Promise<AttestationPolicyDocument> {
    const record = this.require(id);
    return record.backend.attestationPolicy(record.context);
  }

  /** The attestation policy the current configuration gives a VM (for `cocos-manager attestation-policy`). */
  async previewAttestationPolicy(): Promise<AttestationPolicyDocument> {
    const backend = await this.backends.choose({ probe: false });
    const range = this.config.get<PortRange>('qemu.hostFwdRange');
    const layout = this.layout(PLACEHOLDER_VM_ID);
    const request = emptyCreateVmRequest();
    return backend.attestationPolicy(new VmContext(PLACEHOLDER_VM_ID, layout.dir, range.first, request, this.kernelCommandLine(request)));
  }

  /** The end of a VM's serial console (both the live and the rotated log). */
  async consoleOutput(id: string, maxBytes = 64 * 1024): Promise<string> {
    return this.require(id).console.tail(maxBytes);
  }

  /** The argv one VM would be launched with under the current configuration; creates nothing. */
  async previewArgv(): Promise<string[]> {
    const backend = await this.backends.choose({ probe: false });
    const boot = this.boots.choose();
    const range = this.config.get<PortRange>('qemu.hostFwdRange');
    const layout = this.layout(PLACEHOLDER_VM_ID);
    const request = emptyCreateVmRequest();
    const context = new VmContext(PLACEHOLDER_VM_ID, layout.dir, range.first, request, this.kernelCommandLine(request));
    return this.buildCommand(context, backend, boot).argv();
  }

  /** Manager stop: remove every VM, or leave them running for the next manager to re-adopt. */
  async shutdown(options: { removeVms: boolean }): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (options.removeVms) {
      await Promise.allSettled([...this.vms.keys()].map((id) => this.remove(id)));
      return;
    }
    for (const record of this.vms.values()) {
      record.ttl?.cancel();
      record.qmp?.close();
      record.follower?.stop();
      await record.persisting;
    }
    this.logger.info({ vms: this.vms.size }, 'leaving VMs running for the next manager to re-adopt');
  }

  portUsage(): { inUse: number; size: number } {
    return { inUse: this.ports.inUse, size: this.ports.size };
  }

  /**
   * Sweeps what no VM owns: per-VM directories and state files of unknown
   * ids, and reserved ports no VM or create holds.
   */
  async reconcile(): Promise<{ directories: string[]; stateFiles: string[]; ports: number[] }> {
    const known = new Set([...this.vms.keys(), ...this.creating.keys()]);
    const directories: string[] = [];
    const roots = [this.runDir(), this.config.get<string>('qemu.envMount'), this.config.get<string>('qemu.certsMount')].filter((r) => r !== '');
    for (const root of new Set(roots)) {
      for (const entry of await readdir(root).catch(() => [] as string[])) {
        if (!UUID.test(entry) || known.has(entry)) continue;
        await removeVmFiles(this.layout(entry));
        directories.push(entry);
      }
    }
    const stateFiles: string[] = [];
    for (const id of await this.store.ids()) {
      if (known.has(id)) continue;
      await this.store.remove(id);
      stateFiles.push(id);
    }
    const held = new Set<number>();
    for (const r of this.vms.values()) if (r.releasing === null) held.add(r.context.hostPort);
    for (const port of this.creating.values()) if (port !== null) held.add(port);
    const ports = this.ports.reservedPorts().filter((p) => !held.has(p));
    for (const port of ports) this.ports.release(port);
    if (directories.length + stateFiles.length + ports.length > 0) {
      this.logger.warn({ directories, stateFiles, ports }, 'reconciler removed orphans');
    }
    return { directories, stateFiles, ports };
  }

  private async step<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof ManagerError) throw err;
      throw ManagerError.failedPrecondition(`${what} failed: ${(err as Error).message}`);
    }
  }

  /** Waits for QEMU's QMP greeting: QEMU finished starting. Fails if QEMU exits first. */
  private async awaitQmp(proc: SupervisedProcess, socket: string): Promise<QmpClient> {
    const timeoutMs = this.config.get<number>('manager.startTimeout');
    const deadline = Date.now() + timeoutMs;
    let exit: VmExit | null = null;
    void proc.exited.then((e) => {
      exit = e;
    });
    while (Date.now() < deadline) {
      if (exit !== null) throw ManagerError.internal(`QEMU exited during start-up: ${(exit as VmExit).reason}`);
      try {
        return await QmpClient.connect(socket, Math.max(100, deadline - Date.now()));
      } catch {
        await sleep(20);
      }
    }
    if (exit !== null) throw ManagerError.internal(`QEMU exited during start-up: ${(exit as VmExit).reason}`);
    throw ManagerError.internal(`QEMU did not answer on its QMP socket within MANAGER_VM_START_TIMEOUT (${timeoutMs} ms)`);
  }

  private watchQmp(record: VmRecord, qmp: QmpClient): void {
    qmp.on('event', (event) => {
      const status: Record<string, string> = { STOP: 'paused', RESUME: 'running', GUEST_PANICKED: 'guest-panicked', SHUTDOWN: 'shutdown', POWERDOWN: record.guestStatus ?? 'running' };
      const next = status[event.event];
      if (next === undefined) return;
      record.guestStatus = next;
      record.logger.info({ qmpEvent: event.event, data: event.data }, 'QEMU event');
      if (event.event === 'GUEST_PANICKED' || event.event === 'STOP' || event.event === 'RESUME') {
        this.events.emit('event', { kind: 'lifecycle', vmId: record.id, state: record.state, previous: null, at: new Date().toISOString(), detail: `guest ${next}` });
      }
    });
  }

  private buildCommand(vm: VmContext, backend: TeeBackend, boot: BootStrategy): QemuCommand {
    const c = this.config;
    const layout = this.layout(vm.id);
    const netdevId = `${c.get<string>('qemu.netdevId')}-${vm.id}`;
    const command = new QemuCommand(c.get<string>('qemu.binPath'), c.get<boolean>('qemu.useSudo'));
    if (c.get<boolean>('qemu.enableKvm')) command.add(new EnableKvm());
    command.add(
      new Machine(c.get<string>('qemu.machine')),
      new Cpu(c.get<string>('qemu.cpu')),
      new Smp(c.get<number>('qemu.smpCount'), c.get<number>('qemu.smpMaxCpus')),
      new Memory(c.get<string>('qemu.memorySize'), c.get<number>('qemu.memorySlots'), c.get<string>('qemu.maxMemory')),
      new UserNetdev(netdevId, [{ hostPort: vm.hostPort, guestPort: c.get<number>('qemu.guestFwdAgent') }]),
      new VirtioNetPci({
        netdev: netdevId,
        disableLegacy: c.get<string>('qemu.virtioNetPci.disableLegacy'),
        iommuPlatform: c.get<string>('qemu.virtioNetPci.iommuPlatform'),
        addr: c.get<string>('qemu.virtioNetPci.addr'),
        romfile: c.get<string>('qemu.virtioNetPci.romfile'),
      }),
    );
    if (c.get<boolean>('qemu.noGraphic')) command.add(new NoGraphic());
    command.add(
      new Monitor(c.get<string>('qemu.monitor')),
      new LocalFsdev('env_fs', layout.envDir, 'mapped'),
      new Virtio9pDevice('env_fs', 'env_share'),
      new LocalFsdev('cert_fs', layout.certsDir, 'mapped'),
      new Virtio9pDevice('cert_fs', 'certs_share'),
      new GuestName(guestName(vm.id)),
      new QmpSocket(layout.qmpSocket),
      new NoReboot(),
    );
    backend.contribute(command, vm);
    boot.contribute(command, vm);
    return command;
  }

  private kernelCommandLine(request: CreateVmRequest): string {
    const base = this.config.get<string>('qemu.kernelCmdline');
    return request.aaKbsParams === '' ? base : `${base} agent.aa_kbc_params=${request.aaKbsParams}`;
  }

  private layout(id: string): VmLayout {
    return vmLayout(this.runDir(), id, {
      envMount: this.config.get<string>('qemu.envMount'),
      certsMount: this.config.get<string>('qemu.certsMount'),
    });
  }

  private runDir(): string {
    return resolveRunDir(this.config.get<string>('manager.runDir'));
  }

  private newRecord(
    id: string,
    context: VmContext,
    layout: VmLayout,
    backend: TeeBackend,
    boot: BootStrategy,
    logger: Logger,
    extra: { adopted: boolean; createdAt: Date; ttlDeadline: Date | null },
  ): VmRecord {
    return {
      id,
      context,
      layout,
      backend,
      boot,
      logger,
      console: new ConsoleLog(layout.consoleLog, this.config.get<number>('manager.consoleLogSize')),
      state: VmState.Provisioning,
      process: null,
      qmp: null,
      exit: null,
      guestStatus: null,
      ttl: null,
      releasing: null,
      removal: null,
      persisting: Promise.resolve(),
      forgotten: false,
      follower: null,
      ...extra,
    };
  }

  private require(id: string): VmRecord {
    if (id === '') throw ManagerError.invalidArgument('the VM id is empty');
    const record = this.vms.get(id);
    if (!record) throw ManagerError.notFound(`no VM with id "${id}"`);
    return record;
  }

  private activeCount(): number {
    let n = 0;
    for (const r of this.vms.values()) if (r.state !== VmState.Failed && r.state !== VmState.Stopped) n++;
    return n;
  }

  private transition(record: VmRecord, state: VmState, detail: string): void {
    const previous = record.state === state ? null : record.state;
    record.state = state;
    record.logger.info({ state, previous }, detail);
    this.persist(record);
    this.events.emit('event', { kind: 'lifecycle', vmId: record.id, state, previous, at: new Date().toISOString(), detail });
  }

  private persist(record: VmRecord): void {
    const write = async () => {
      if (record.forgotten) return;
      await this.store.save(this.toStateRecord(record));
    };
    record.persisting = record.persisting.then(write).catch((err: unknown) => record.logger.error({ err }, 'writing VM state failed'));
  }

  private toStateRecord(r: VmRecord): VmStateRecord {
    return {
      version: STATE_VERSION,
      id: r.id,
      state: r.state,
      pid: r.process?.pid ?? null,
      pidStartTime: r.process?.startTime ?? null,
      hostPort: r.context.hostPort,
      backend: r.backend.name,
      boot: r.boot.name,
      createdAt: r.createdAt.toISOString(),
      ttlDeadline: r.ttlDeadline?.toISOString() ?? null,
      kernelCommandLine: r.context.kernelCommandLine,
      exit: r.exit,
    };
  }

  private armTtl(record: VmRecord): void {
    if (!record.ttlDeadline) return;
    record.ttl = new TtlTimer(record.ttlDeadline, () => {
      record.logger.info({ deadline: record.ttlDeadline?.toISOString() }, 'TTL reached; removing the VM');
      this.remove(record.id).catch((err: unknown) => record.logger.error({ err }, 'TTL removal failed'));
    });
  }

  private async followConsole(record: VmRecord, fromStart: boolean): Promise<void> {
    record.follower = new ConsoleFollower(record.layout.consoleLog, (line) =>
      this.events.emit('console', { kind: 'console', vmId: record.id, line, at: new Date().toISOString() }),
    );
    await record.follower.start(fromStart);
  }

  private async onExit(record: VmRecord, exit: VmExit): Promise<void> {
    await record.follower?.poll().catch(() => undefined); // the last lines before the exit
    record.follower?.stop();
    record.exit = exit;
    record.ttl?.cancel();
    record.qmp?.close();
    if (record.state === VmState.Stopping) {
      this.transition(record, VmState.Stopped, exit.reason);
    } else {
      record.logger.warn({ exit }, 'QEMU exited unexpectedly');
      this.transition(record, VmState.Failed, exit.reason);
    }
    await this.release(record);
  }

  /** Frees the VM's port and files; safe to call more than once. */
  private release(record: VmRecord): Promise<void> {
    record.releasing ??= this.releaseOnce(record);
    return record.releasing;
  }

  private async releaseOnce(record: VmRecord): Promise<void> {
    try {
      await record.boot.cleanup(record.context);
      await record.backend.cleanup(record.context);
    } catch (err) {
      record.logger.error({ err }, 'plugin cleanup failed');
    }
    await removeVmFiles(record.layout);
    this.ports.release(record.context.hostPort);
  }

  private async stopAndForget(record: VmRecord): Promise<void> {
    record.ttl?.cancel();
    if (record.process && record.exit === null) {
      const proc = record.process;
      this.transition(record, VmState.Stopping, 'stopping QEMU');
      await this.tracing.step('vm.stop', () => this.stopProcess(record, proc), { 'vm.id': record.id });
    }
    await this.release(record);
    record.forgotten = true;
    await record.persisting;
    await this.store.remove(record.id);
    this.vms.delete(record.id);
    record.logger.info('VM removed');
  }

  /** ACPI power-down first, then SIGTERM, then SIGKILL; returns once the process is gone. */
  private async stopProcess(record: VmRecord, proc: SupervisedProcess): Promise<void> {
    const powerdownMs = this.config.get<number>('manager.powerdownTimeout');
    if (powerdownMs > 0 && record.qmp?.connected) {
      try {
        await record.qmp.execute('system_powerdown', undefined, 2000);
        if (await settlesWithin(proc.exited, powerdownMs)) return;
        record.logger.info({ timeoutMs: powerdownMs }, 'guest did not power off; sending SIGTERM');
      } catch (err) {
        record.logger.debug({ err }, 'system_powerdown failed; sending SIGTERM');
      }
    }
    await proc.kill('SIGTERM');
    const stopMs = this.config.get<number>('manager.stopTimeout');
    if (await settlesWithin(proc.exited, stopMs)) return;
    record.logger.warn({ timeoutMs: stopMs }, 'QEMU ignored SIGTERM; sending SIGKILL');
    await proc.kill('SIGKILL');
    await proc.exited;
  }

  private async recover(): Promise<void> {
    const { records, problems } = await this.store.loadAll();
    for (const problem of problems) this.logger.warn({ problem }, 'unreadable VM state file skipped');
    await Promise.all(records.map((r) => this.recoverOne(r)));
  }

  private async recoverOne(saved: VmStateRecord): Promise<void> {
    const log = this.logger.child({ vm: saved.id });
    const layout = this.layout(saved.id);
    const backend = this.backends.byName(saved.backend) ?? this.backends.current();
    const boot = this.boots.byName(saved.boot) ?? this.boots.choose();
    const context = new VmContext(saved.id, layout.dir, saved.hostPort, emptyCreateVmRequest(), saved.kernelCommandLine);
    const record = this.newRecord(saved.id, context, layout, backend, boot, log, {
      adopted: true,
      createdAt: new Date(saved.createdAt),
      ttlDeadline: saved.ttlDeadline ? new Date(saved.ttlDeadline) : null,
    });
    record.exit = saved.exit;

    const ended = saved.state === VmState.Failed || saved.state === VmState.Stopped;
    const identity = saved.pid !== null && saved.pidStartTime ? { pid: saved.pid, startTime: saved.pidStartTime } : null;
    const check = ended || !identity ? null : await checkIdentity(identity, guestName(saved.id));

    if (identity && check?.same) {
      this.ports.claim(saved.hostPort);
      const qmp = await QmpClient.connect(layout.qmpSocket, 2000).catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, 're-adopted VM has no working QMP socket; stop will use signals');
        return null;
      });
      const proc = new AdoptedProcess(identity, guestName(saved.id), layout.consoleLog, qmp);
      record.process = proc;
      record.qmp = qmp;
      if (qmp) this.watchQmp(record, qmp);
      this.vms.set(saved.id, record);
      void proc.exited.then((exit) => this.onExit(record, exit));
      await this.followConsole(record, false);
      this.transition(record, VmState.Running, `re-adopted QEMU pid ${identity.pid}`);
      this.armTtl(record);
      return;
    }

    if (check && !check.same && !check.why.endsWith('is not running')) {
      // The pid is someone else's now: never touch it; forget the VM, clean our files.
      log.warn({ reason: check.why }, 'not re-adopting: its pid belongs to another process; forgetting the VM');
      await removeVmFiles(layout);
      await this.store.remove(saved.id);
      return;
    }
    // QEMU ended while no manager watched (or the VM had already failed): keep it visible as failed.
    this.vms.set(saved.id, record);
    record.releasing = removeVmFiles(layout);
    await record.releasing;
    if (!ended) {
      const why = check && !check.same ? check.why : null;
      record.exit = { code: null, signal: null, reason: why ? `QEMU ended while the manager was not running (${why})` : 'QEMU never started' };
      log.warn({ exit: record.exit }, 'VM found dead on recovery');
    }
    record.state = VmState.Failed;
    this.persist(record);
  }

  private async rotateConsoles(): Promise<void> {
    for (const record of this.vms.values()) {
      if (record.state === VmState.Running) await record.console.rotateIfNeeded();
    }
  }

  private summarize(r: VmRecord): VmSummary {
    return {
      id: r.id,
      state: r.state,
      forwardedPort: r.context.hostPort,
      pid: r.exit === null ? (r.process?.pid ?? null) : null,
      backend: r.backend.name,
      boot: r.boot.name,
      createdAt: r.createdAt.toISOString(),
      ttlDeadline: r.ttlDeadline?.toISOString() ?? null,
      exit: r.exit,
      guestStatus: r.exit === null ? r.guestStatus : null,
      adopted: r.adopted,
    };
  }
}
