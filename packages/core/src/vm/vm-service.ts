import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import type { BootStrategy } from '../api/boot-strategy.js';
import type { TeeBackend } from '../api/tee-backend.js';
import { CONFIG, LOGGER } from '../api/tokens.js';
import { VmContext } from '../api/vm-context.js';
import type { PortRange } from '../config/formats.js';
import { resolveRunDir } from '../config/core-settings.js';
import type { ManagerConfig } from '../config/manager-config.js';
import { ManagerError } from '../errors.js';
import { BACKEND_REGISTRY, BOOT_REGISTRY, PORT_ALLOCATOR } from '../kernel/internal-tokens.js';
import type { BackendRegistry } from '../kernel/backend-registry.js';
import type { BootRegistry } from '../kernel/boot-registry.js';
import { QemuCommand } from '../qemu/command.js';
import { EnableKvm } from '../qemu/elements/accelerator.js';
import { Cpu, Smp } from '../qemu/elements/cpu.js';
import { VirtioNetPci } from '../qemu/elements/device.js';
import { Monitor, NoGraphic } from '../qemu/elements/display.js';
import { Machine } from '../qemu/elements/machine.js';
import { Memory } from '../qemu/elements/memory.js';
import { UserNetdev } from '../qemu/elements/network.js';
import { LocalFsdev, Virtio9pDevice } from '../qemu/elements/shared-fs.js';
import { GuestName } from '../qemu/elements/supervision.js';
import type { PortAllocator } from './port-allocator.js';
import { QemuProcess } from './qemu-process.js';
import { validateCreateRequest } from './request-validation.js';
import { TtlTimer } from './ttl-timer.js';
import { createVmDir, removeVmFiles, vmLayout, writeShares, type VmLayout } from './vm-files.js';
import { emptyCreateVmRequest, VmState, type CreatedVm, type CreateVmRequest, type CvmInfo, type VmEvent, type VmExit, type VmSummary } from './types.js';

/** The VM id `qemu-args` shows: a placeholder, since no VM is created. */
export const PLACEHOLDER_VM_ID = '00000000-0000-0000-0000-000000000000';

interface VmRecord {
  readonly id: string;
  readonly context: VmContext;
  readonly backend: TeeBackend;
  readonly boot: BootStrategy;
  readonly createdAt: Date;
  readonly logger: Logger;
  state: VmState;
  process: QemuProcess | null;
  ttlDeadline: Date | null;
  ttl: TtlTimer | null;
  exit: VmExit | null;
  /** Releasing port and files, once (both the exit handler and removal ask for it). */
  releasing: Promise<void> | null;
  removal: Promise<void> | null;
}

/** Undo steps of a create in progress, run in reverse if it fails. */
class Rollback {
  private readonly steps: Array<() => Promise<void> | void> = [];
  add(step: () => Promise<void> | void): void {
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

/**
 * The VM lifecycle: create, supervise, remove; the answers transports serve.
 * Every VM is a QEMU child of this process, supervised through its exit event.
 */
@injectable()
export class VmService {
  private readonly vms = new Map<string, VmRecord>();
  private readonly events = new EventEmitter<{ event: [VmEvent] }>();
  private pendingCreates = 0;

  constructor(
    @inject(CONFIG) private readonly config: ManagerConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(BACKEND_REGISTRY) private readonly backends: BackendRegistry,
    @inject(BOOT_REGISTRY) private readonly boots: BootRegistry,
    @inject(PORT_ALLOCATOR) private readonly ports: PortAllocator,
  ) {
    this.events.setMaxListeners(0);
  }

  /** Subscribes to lifecycle events; returns the unsubscribe function. */
  onEvent(listener: (event: VmEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  async create(request: CreateVmRequest): Promise<CreatedVm> {
    const { ttlMs } = validateCreateRequest(request);
    const backend = this.backends.current();
    const boot = this.boots.choose();
    const maxVms = this.config.get<number>('manager.maxVms');
    if (this.activeCount() + this.pendingCreates >= maxVms) {
      throw ManagerError.resourceExhausted(`MANAGER_MAX_VMS=${maxVms} VMs are already running; remove one first`);
    }
    this.pendingCreates++;
    const id = randomUUID();
    const log = this.logger.child({ vm: id });
    const rollback = new Rollback();
    try {
      const hostPort = await this.ports.allocate();
      rollback.add(() => this.ports.release(hostPort));

      const layout = this.layout(id);
      await createVmDir(layout.dir);
      rollback.add(() => removeVmFiles(layout));
      await writeShares(layout, id, request);

      const context = new VmContext(id, layout.dir, hostPort, request, this.kernelCommandLine(request));
      await backend.prepare(context);
      rollback.add(() => backend.cleanup(context));
      await boot.prepare(context);
      rollback.add(() => boot.cleanup(context));

      const argv = this.buildCommand(context, backend, boot).argv();
      const record: VmRecord = {
        id,
        context,
        backend,
        boot,
        createdAt: new Date(),
        logger: log,
        state: VmState.Provisioning,
        process: null,
        ttlDeadline: ttlMs === null ? null : new Date(Date.now() + ttlMs),
        ttl: null,
        exit: null,
        releasing: null,
        removal: null,
      };
      this.vms.set(id, record);
      rollback.add(() => void this.vms.delete(id));
      this.transition(record, VmState.Starting, 'launching QEMU');
      log.info({ argv, port: hostPort, backend: backend.name, boot: boot.name }, 'launching QEMU');

      const proc = await QemuProcess.start(argv, layout.consoleLog);
      record.process = proc;
      void proc.exited.then((exit) => this.onExit(record, exit));
      this.transition(record, VmState.Running, `QEMU pid ${proc.pid}`);
      if (record.ttlDeadline) {
        record.ttl = new TtlTimer(record.ttlDeadline, () => this.expire(record));
      }
      return { id, forwardedPort: hostPort };
    } catch (err) {
      await rollback.run(log);
      if (err instanceof ManagerError) throw err;
      log.error({ err }, 'create failed');
      throw ManagerError.internal(`creating the VM failed: ${(err as Error).message}`, err);
    } finally {
      this.pendingCreates--;
    }
  }

  async remove(id: string): Promise<void> {
    const record = this.require(id);
    record.removal ??= this.stopAndForget(record);
    await record.removal;
  }

  get(id: string): VmSummary {
    return this.summarize(this.require(id));
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

  async attestationPolicy(id: string): Promise<Uint8Array> {
    const record = this.require(id);
    return record.backend.attestationPolicy(record.context);
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

  /** Removes every VM (manager shutdown). */
  async shutdown(): Promise<void> {
    await Promise.allSettled([...this.vms.keys()].map((id) => this.remove(id)));
  }

  portUsage(): { inUse: number; size: number } {
    return { inUse: this.ports.inUse, size: this.ports.size };
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
      new GuestName(`cvm-${vm.id}`),
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

  private require(id: string): VmRecord {
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
    this.events.emit('event', { vmId: record.id, state, previous, at: new Date().toISOString(), detail });
  }

  private async onExit(record: VmRecord, exit: VmExit): Promise<void> {
    record.exit = exit;
    record.ttl?.cancel();
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
    await removeVmFiles(this.layout(record.id));
    this.ports.release(record.context.hostPort);
  }

  private async stopAndForget(record: VmRecord): Promise<void> {
    record.ttl?.cancel();
    const proc = record.process;
    if (proc && record.exit === null) {
      this.transition(record, VmState.Stopping, 'stopping QEMU');
      proc.kill('SIGTERM');
      const timeout = this.config.get<number>('manager.stopTimeout');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeout);
      });
      if ((await Promise.race([proc.exited, killed])) === 'timeout') {
        record.logger.warn({ timeoutMs: timeout }, 'QEMU ignored SIGTERM; sending SIGKILL');
        proc.kill('SIGKILL');
      }
      clearTimeout(timer);
      await proc.exited;
      // onExit ran from the same exit; make sure its cleanup finished.
    }
    await this.release(record);
    this.vms.delete(record.id);
    record.logger.info('VM removed');
  }

  private expire(record: VmRecord): void {
    record.logger.info('TTL reached; removing the VM');
    this.remove(record.id).catch((err: unknown) => record.logger.error({ err }, 'TTL removal failed'));
  }

  private summarize(r: VmRecord): VmSummary {
    return {
      id: r.id,
      state: r.state,
      forwardedPort: r.context.hostPort,
      pid: r.process?.pid ?? null,
      backend: r.backend.name,
      boot: r.boot.name,
      createdAt: r.createdAt.toISOString(),
      ttlDeadline: r.ttlDeadline?.toISOString() ?? null,
      exit: r.exit,
    };
  }
}
