import type { Logger } from 'pino';
import type { BootStrategy } from '../../api/boot-strategy.js';
import type { LaunchSpec } from '../../api/process-launcher.js';
import type { TeeBackend } from '../../api/tee-backend.js';
import type { DeviceAssignment, VmDevice } from '../../api/vm-device.js';
import { VmContext } from '../../api/vm-context.js';
import { resolveRunDir, type coreSettings } from '../../config/core-settings.js';
import type { SliceValues } from '../../api/settings.js';
import { QemuCommand } from '../../qemu/command.js';
import { EnableKvm } from '../../qemu/elements/accelerator.js';
import { Cpu, Smp } from '../../qemu/elements/cpu.js';
import { VirtioNetPci } from '../../qemu/elements/device.js';
import { Monitor, NoGraphic } from '../../qemu/elements/display.js';
import { Machine } from '../../qemu/elements/machine.js';
import { Memory } from '../../qemu/elements/memory.js';
import { UserNetdev } from '../../qemu/elements/network.js';
import { LocalFsdev, Virtio9pDevice } from '../../qemu/elements/shared-fs.js';
import { GuestName, NoReboot, QmpSocket } from '../../qemu/elements/supervision.js';
import type { CreateVmRequest } from '../../api/vm-types.js';
import { vmLayout, type VmLayout } from '../state/vm-files.js';

/** The VM id `qemu-args` shows: a placeholder, since no VM is created. */
export const PLACEHOLDER_VM_ID = '00000000-0000-0000-0000-000000000000';

/** The `-name` a VM's QEMU carries: what identifies it in /proc after a restart. */
export function guestName(id: string): string {
  return `cvm-${id}`;
}

/** Everything fixed about one VM before QEMU starts: computed once, by `LaunchPlanner.plan`. */
export interface LaunchPlan {
  readonly id: string;
  readonly layout: VmLayout;
  readonly context: VmContext;
  readonly backend: TeeBackend;
  readonly boot: BootStrategy;
  /** What the VM devices gave this VM: filled by the create (or recovery), released with the VM. */
  readonly devices: AssignedDevice[];
}

/** One device's assignment to one VM. */
export interface AssignedDevice {
  readonly device: VmDevice;
  readonly assignment: DeviceAssignment;
}

/** Adds to a preview plan what each device would give a VM now (reserving nothing). */
export function previewDevices(plan: LaunchPlan, devices: readonly VmDevice[]): LaunchPlan {
  for (const device of devices) {
    const assignment = device.preview(plan.context);
    if (assignment) plan.devices.push({ device, assignment });
  }
  return plan;
}

/** Tells each of a VM's devices that its QEMU is up (VmDevice.running); a device that throws is logged, the VM runs on. */
export function runningHooks(plan: LaunchPlan, log: Pick<Logger, 'warn'>): void {
  for (const { device, assignment } of plan.devices) {
    try {
      device.running?.(plan.context, assignment);
    } catch (err) {
      log.warn({ err, device: device.name }, 'a device failed to start talking to its running VM');
    }
  }
}

type CoreValues = SliceValues<typeof coreSettings>;

/**
 * Builds what a VM is launched with: its file layout, its kernel command
 * line, and its QEMU command (the base elements core owns, then the
 * backend's, the boot strategy's and the devices'), in the Go manager's order.
 */
export class LaunchPlanner {
  private readonly runDir: string;

  constructor(private readonly settings: CoreValues) {
    this.runDir = resolveRunDir(settings.manager.runDir);
  }

  /** The run directory VMs' files live under. */
  get root(): string {
    return this.runDir;
  }

  layout(id: string): VmLayout {
    return vmLayout(this.runDir, id, { envMount: this.settings.qemu.envMount, certsMount: this.settings.qemu.certsMount });
  }

  kernelCommandLine(request: CreateVmRequest, backend: TeeBackend): string {
    const parts = [this.settings.qemu.kernelCmdline, ...(backend.kernelParameters?.() ?? [])];
    if (request.aaKbsParams !== '') parts.push(`agent.aa_kbc_params=${request.aaKbsParams}`);
    return parts.filter((part) => part !== '').join(' ');
  }

  /** A plan for a new VM (or, with `kernelCommandLine`, a re-adopted one as it was launched). */
  plan(id: string, hostPort: number, request: CreateVmRequest, backend: TeeBackend, boot: BootStrategy, kernelCommandLine?: string): LaunchPlan {
    const layout = this.layout(id);
    const context = new VmContext(id, layout.dir, hostPort, request, kernelCommandLine ?? this.kernelCommandLine(request, backend));
    return { id, layout, context, backend, boot, devices: [] };
  }

  /** What the launcher starts: the argv and the files QEMU is known by. */
  spec(plan: LaunchPlan): LaunchSpec {
    return { argv: this.command(plan).argv(), consoleLog: plan.layout.consoleLog, qmpSocket: plan.layout.qmpSocket, name: guestName(plan.id) };
  }

  command(plan: LaunchPlan): QemuCommand {
    const q = this.settings.qemu;
    const { context: vm, layout } = plan;
    const netdevId = `${q.netdevId}-${vm.id}`;
    const command = new QemuCommand(q.binPath, q.useSudo);
    if (q.enableKvm) command.add(new EnableKvm());
    command.add(
      new Machine(q.machine),
      new Cpu(q.cpu),
      new Smp(q.smpCount, q.smpMaxCpus),
      new Memory(q.memorySize, q.memorySlots, q.maxMemory),
      new UserNetdev(netdevId, [{ hostPort: vm.hostPort, guestPort: q.guestFwdAgent }]),
      new VirtioNetPci({ netdev: netdevId, ...q.virtioNetPci }),
    );
    if (q.noGraphic) command.add(new NoGraphic());
    command.add(
      new Monitor(q.monitor),
      // Certs share first, then env: the Go manager's order (apps/manager/test/golden-argv.ts).
      new LocalFsdev('cert_fs', layout.certsDir, 'mapped', true),
      new Virtio9pDevice('cert_fs', 'certs_share'),
      new LocalFsdev('env_fs', layout.envDir, 'mapped', true),
      new Virtio9pDevice('env_fs', 'env_share'),
      new GuestName(guestName(vm.id)),
      new QmpSocket(layout.qmpSocket),
      new NoReboot(),
    );
    plan.backend.contribute(command, vm);
    plan.boot.contribute(command, vm);
    for (const { device, assignment } of plan.devices) device.contribute(command, vm, assignment);
    return command;
  }
}
