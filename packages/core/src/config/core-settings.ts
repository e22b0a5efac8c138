import os from 'node:os';
import path from 'node:path';
import * as f from './formats.js';
import { setting } from '../api/settings.js';

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Per-VM runtime files: `/run/cocos-manager` as root, else the user's runtime dir. */
export function defaultRunDir(): string {
  if (isRoot()) return '/run/cocos-manager';
  const runtime = process.env['XDG_RUNTIME_DIR'];
  return runtime ? path.join(runtime, 'cocos-manager') : path.join(os.tmpdir(), `cocos-manager-${process.getuid?.() ?? 'user'}`);
}

/**
 * The settings core itself reads, and the QEMU parts common to every backend.
 * A setting only one backend reads belongs in that backend's own slice.
 */
export const coreSettings = {
  manager: {
    logLevel: setting({ env: 'MANAGER_LOG_LEVEL', doc: 'Logging verbosity.', default: 'info', format: f.logLevel }),
    instanceId: setting({
      env: 'MANAGER_INSTANCE_ID',
      doc: 'Identifier of this manager instance, carried on every log line when set and reported by health endpoints (generated at start when empty).',
      default: '',
      format: f.text,
    }),
    maxVms: setting({ env: 'MANAGER_MAX_VMS', doc: 'Maximum number of VMs running at once.', default: '10', format: f.integer(1, 4096) }),
    runDir: setting({
      env: 'MANAGER_RUN_DIR',
      doc: 'Directory for per-VM runtime files (firmware vars, 9p shares, console log); one 0700 subdirectory per VM. Empty: /run/cocos-manager as root, else $XDG_RUNTIME_DIR/cocos-manager (or a per-user directory in /tmp).',
      default: '',
      format: f.text,
    }),
    eosVersion: setting({ env: 'MANAGER_EOS_VERSION', doc: 'EOS version reported in CVM info.', default: '', format: f.text }),
    teeBackend: setting({
      env: 'MANAGER_TEE_BACKEND',
      doc: "Name of the TEE backend to use (any loaded backend's name); empty: the backend whose own MANAGER_QEMU_ENABLE_* switch is true, else auto-detected in the order the backends declare.",
      default: '',
      format: f.text,
    }),
    stateDir: setting({
      env: 'MANAGER_STATE_DIR',
      doc: 'Directory of the per-VM state files that let a restarted manager re-adopt its VMs. Empty: /var/lib/cocos-manager as root, else $XDG_STATE_HOME/cocos-manager (or ~/.local/state/cocos-manager).',
      default: '',
      format: f.text,
    }),
    startTimeout: setting({
      env: 'MANAGER_VM_START_TIMEOUT',
      doc: 'How long QEMU may take to start (until its QMP socket answers) before the create fails and is rolled back.',
      default: '30s',
      format: f.duration,
    }),
    powerdownTimeout: setting({
      env: 'MANAGER_VM_POWERDOWN_TIMEOUT',
      doc: 'How long a removed VM gets to power off after an ACPI power-down (QMP system_powerdown) before SIGTERM; 0s skips the power-down.',
      default: '10s',
      format: f.durationOrZero,
    }),
    plugins: setting({
      env: 'MANAGER_PLUGINS',
      doc: "Extra plugins the cocos-manager binary loads: comma-separated npm package names or paths, each exporting a plugin value; checked against this core's version at start.",
      default: '',
      format: f.text,
    }),
    stopTimeout: setting({
      env: 'MANAGER_VM_STOP_TIMEOUT',
      doc: 'How long a stopping VM gets after SIGTERM before SIGKILL.',
      default: '10s',
      format: f.duration,
    }),
    stopVmsOnExit: setting({
      env: 'MANAGER_STOP_VMS_ON_EXIT',
      doc: 'Remove every VM when the manager stops. By default VMs keep running and the next manager re-adopts them.',
      default: 'false',
      format: f.boolean,
    }),
    reconcileInterval: setting({
      env: 'MANAGER_RECONCILE_INTERVAL',
      doc: 'How often orphaned per-VM directories, state files and ports are swept.',
      default: '60s',
      format: f.duration,
    }),
    failedVmRetention: setting({
      env: 'MANAGER_FAILED_VM_RETENTION',
      doc: 'How long a failed VM (its QEMU exited on its own, or it was found dead on restart) stays listed with its exit reason before it is forgotten as RemoveVm would; 0s keeps it until a client removes it.',
      default: '1h',
      format: f.durationOrZero,
    }),
    consoleLogSize: setting({
      env: 'MANAGER_CONSOLE_LOG_SIZE',
      doc: "Largest size of a VM's console log before it is rotated (one rotated file is kept).",
      default: '1M',
      format: f.byteSize,
    }),
  },
  tracing: {
    url: setting({
      env: 'COCOS_JAEGER_URL',
      doc: 'OTLP/HTTP endpoint traces are exported to (Jaeger, an OpenTelemetry collector); /v1/traces is added when the URL has no path. Empty: no tracing.',
      default: 'http://localhost:4318',
      format: f.text,
    }),
    ratio: setting({
      env: 'COCOS_JAEGER_TRACE_RATIO',
      doc: "Share of traces sampled, 0 to 1 (a caller's sampled trace is always continued).",
      default: '1.0',
      format: f.ratio,
    }),
    exportDelay: setting({ env: 'MANAGER_TRACE_EXPORT_DELAY', doc: 'How long finished spans are batched before export.', default: '2s', format: f.duration }),
  },
  attestation: {
    corimSigningKey: setting({
      env: 'MANAGER_CORIM_SIGNING_KEY',
      doc: 'PEM EC private key (P-256 → ES256, P-384 → ES384) that signs CoRIM policies as COSE_Sign1; empty: unsigned CoRIM.',
      default: '',
      format: f.text,
    }),
  },
  qemu: {
    binPath: setting({
      env: 'MANAGER_QEMU_BIN_PATH',
      doc: 'QEMU binary (a path, or a name looked up in PATH).',
      default: 'qemu-system-x86_64',
      format: f.nonEmptyText,
    }),
    useSudo: setting({
      env: 'MANAGER_QEMU_USE_SUDO',
      doc: 'Run QEMU through `sudo -n` (never prompting). The manager tracks and signals QEMU itself; a non-root manager needs a NOPASSWD sudo rule for the QEMU binary, kill and chown (of its QMP socket).',
      default: 'false',
      format: f.boolean,
    }),
    spawner: setting({
      env: 'MANAGER_QEMU_SPAWNER',
      doc: "How QEMU is started: `helper`, by a small long-lived helper process the manager starts once (the fork behind each spawn is paid by that small process, not by the manager's event loop; if it dies it is restarted and its QEMUs stay supervised), or `direct`, as a child of the manager itself.",
      default: 'helper',
      format: f.oneOf(['helper', 'direct'] as const),
    }),
    enableKvm: setting({
      env: 'MANAGER_QEMU_ENABLE_KVM',
      doc: 'Use KVM acceleration (-enable-kvm); false runs under TCG emulation.',
      default: 'true',
      format: f.boolean,
    }),
    machine: setting({ env: 'MANAGER_QEMU_MACHINE', doc: 'QEMU machine type.', default: 'q35', format: f.nonEmptyText }),
    cpu: setting({ env: 'MANAGER_QEMU_CPU', doc: 'QEMU CPU model.', default: 'EPYC', format: f.nonEmptyText }),
    smpCount: setting({ env: 'MANAGER_QEMU_SMP_COUNT', doc: 'Number of virtual CPUs.', default: '4', format: f.integer(1, 4096) }),
    smpMaxCpus: setting({ env: 'MANAGER_QEMU_SMP_MAXCPUS', doc: 'Maximum number of virtual CPUs.', default: '64', format: f.integer(1, 4096) }),
    memorySize: setting({ env: 'MANAGER_QEMU_MEMORY_SIZE', doc: 'Guest memory size.', default: '2048M', format: f.memorySize }),
    memorySlots: setting({ env: 'MANAGER_QEMU_MEMORY_SLOTS', doc: 'Number of memory hot-plug slots.', default: '5', format: f.integer(0, 256) }),
    maxMemory: setting({ env: 'MANAGER_QEMU_MAX_MEMORY', doc: 'Maximum guest memory.', default: '30G', format: f.memorySize }),
    // Shared by every backend that backs guest RAM with a separate memory
    // object: declared once, here, because a plugin cannot read another
    // plugin's slice and the id is a generic QEMU notion, not one TEE's.
    memId: setting({ env: 'MANAGER_QEMU_MEM_ID', doc: 'Id of the memory backend object (confidential backends).', default: 'ram1', format: f.qemuId }),
    netdevId: setting({
      env: 'MANAGER_QEMU_NETDEV_ID',
      doc: 'Id prefix of the user-mode netdev (a per-VM suffix is added).',
      default: 'vmnic',
      format: f.qemuId,
    }),
    hostFwdAgent: setting({
      env: 'MANAGER_QEMU_HOST_FWD_AGENT',
      doc: 'Host port of the single-VM Go manager; kept for compatibility, ports now come from MANAGER_QEMU_HOST_FWD_RANGE.',
      default: '7020',
      format: f.port,
    }),
    guestFwdAgent: setting({
      env: 'MANAGER_QEMU_GUEST_FWD_AGENT',
      doc: 'Guest port of the agent, forwarded from a host port.',
      default: '7002',
      format: f.port,
    }),
    hostFwdRange: setting({ env: 'MANAGER_QEMU_HOST_FWD_RANGE', doc: 'Host ports handed out to VMs, inclusive.', default: '6100-6200', format: f.portRange }),
    virtioNetPci: {
      disableLegacy: setting({
        env: 'MANAGER_QEMU_VIRTIO_NET_PCI_DISABLE_LEGACY',
        doc: 'disable-legacy of the virtio-net-pci device.',
        default: 'on',
        format: f.qemuSwitch,
      }),
      iommuPlatform: setting({
        env: 'MANAGER_QEMU_VIRTIO_NET_PCI_IOMMU_PLATFORM',
        doc: 'iommu_platform of the virtio-net-pci device.',
        default: 'true',
        format: f.qemuSwitch,
      }),
      addr: setting({ env: 'MANAGER_QEMU_VIRTIO_NET_PCI_ADDR', doc: 'PCI address of the virtio-net-pci device.', default: '0x2', format: f.text }),
      romfile: setting({
        env: 'MANAGER_QEMU_VIRTIO_NET_PCI_ROMFILE',
        doc: 'Option ROM of the virtio-net-pci device (empty: none).',
        default: '',
        format: f.text,
      }),
    },
    kernelFile: setting({
      env: 'MANAGER_QEMU_DISK_IMG_KERNEL_FILE',
      doc: 'Kernel image for RAM boot (-kernel).',
      default: 'img/bzImage',
      format: f.nonEmptyText,
    }),
    rootfsFile: setting({
      env: 'MANAGER_QEMU_DISK_IMG_ROOTFS_FILE',
      doc: 'Initramfs for RAM boot (-initrd).',
      default: 'img/rootfs.cpio.gz',
      format: f.nonEmptyText,
    }),
    kernelCmdline: setting({
      env: 'MANAGER_QEMU_KERNEL_CMDLINE',
      doc: 'Kernel command line for RAM boot (-append).',
      default: 'quiet console=null',
      format: f.text,
    }),
    envMount: setting({
      env: 'MANAGER_QEMU_ENV_MOUNT',
      doc: "Directory under which each VM's env share is created as <dir>/<vm-id> (0700, removed with the VM). Empty: inside the VM's run directory.",
      default: '',
      format: f.text,
    }),
    certsMount: setting({
      env: 'MANAGER_QEMU_CERTS_MOUNT',
      doc: "Directory under which each VM's certs share is created as <dir>/<vm-id> (0700, removed with the VM). Empty: inside the VM's run directory.",
      default: '',
      format: f.text,
    }),
    noGraphic: setting({ env: 'MANAGER_QEMU_NO_GRAPHIC', doc: 'Pass -nographic.', default: 'true', format: f.boolean }),
    monitor: setting({ env: 'MANAGER_QEMU_MONITOR', doc: 'The -monitor character device.', default: 'pty', format: f.nonEmptyText }),
    ovmfVersion: setting({
      env: 'MANAGER_QEMU_OVMF_VERSION',
      doc: "EDK II version the firmware was built from, reported in CVM info (ovmf_version). Empty: what the backend reads from its firmware file (the release of the Debian package that installed it, e.g. edk2-stable202211 for ovmf 2022.11), else edk2-stable202408 (the Go manager's default).",
      default: '',
      format: f.text,
    }),
  },
};

/** The effective run directory: MANAGER_RUN_DIR, or the default for this user. */
export function resolveRunDir(configured: string): string {
  return configured === '' ? defaultRunDir() : path.resolve(configured);
}

/** The effective state directory: MANAGER_STATE_DIR, or the default for this user. */
export function resolveStateDir(configured: string): string {
  if (configured !== '') return path.resolve(configured);
  if (isRoot()) return '/var/lib/cocos-manager';
  const stateHome = process.env['XDG_STATE_HOME'] || path.join(os.homedir(), '.local', 'state');
  return path.join(stateHome, 'cocos-manager');
}
