import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  CONFIG,
  ConfigError,
  Device,
  Drive,
  inject,
  injectable,
  ManagerError,
  QemuSection,
  type BootStrategy,
  type ManagerConfig,
  type QemuCommand,
  type VmContext,
} from '@cocos-manager/core';
import { createCopy, createOverlay, imageInfo, type ImageInfo } from './qemu-img.js';
import { diskSettings } from './settings.js';
import { perVmDiskSize } from './sizing.js';

/**
 * Disk boot: each VM gets its own disk made from a reference image and
 * attached over virtio-scsi; the firmware boots from it, so there is no
 * -kernel/-initrd/-append.
 */
@injectable()
export class DiskBootStrategy implements BootStrategy {
  readonly name = 'disk';
  private reference: ImageInfo | null = null;

  constructor(@inject(CONFIG) private readonly config: ManagerConfig) {}

  selected(): boolean {
    return this.settings().enable;
  }

  async validate(): Promise<void> {
    const source = this.source();
    let info: ImageInfo;
    try {
      info = await imageInfo(source);
    } catch (err) {
      throw new ConfigError(`MANAGER_QEMU_SRC_DISK_FILE=${JSON.stringify(source)}: expected a disk image qemu-img can read (${(err as Error).message})`);
    }
    const { format } = this.settings();
    // qemu-img calls any file it cannot place "raw": the format check is what catches a wrong file.
    if (info.format !== format) {
      throw new ConfigError(
        `MANAGER_QEMU_SRC_DISK_FILE=${JSON.stringify(source)}: expected a ${format} image (MANAGER_QEMU_DISK_FORMAT), qemu-img says it is ${info.format}`,
      );
    }
    if (this.settings().provisioning === 'overlay' && format !== 'qcow2') {
      throw new ConfigError(
        'MANAGER_QEMU_DISK_FORMAT=raw: overlay provisioning makes qcow2 disks; set MANAGER_QEMU_DISK_FORMAT=qcow2 or MANAGER_QEMU_DISK_PROVISIONING=copy',
      );
    }
    this.reference = info;
  }

  async prepare(vm: VmContext): Promise<void> {
    const disk = this.diskPath(vm);
    // Made here first, exclusively: O_EXCL refuses anything already at the path (a planted link too, so
    // nothing is written through it), and the file is 0600 — only the manager (and QEMU, same user) may
    // read the guest's data — before qemu-img writes into it (qemu-img keeps an existing file's mode).
    try {
      const handle = await open(disk, 'wx', 0o600);
      await handle.chmod(0o600).finally(() => handle.close());
    } catch (err) {
      throw new ManagerError('VM_PREPARE_FAILED', "the VM's disk could not be made", { detail: `${disk}: ${(err as Error).message}` });
    }
    try {
      const reference = this.reference ?? (await imageInfo(this.source()));
      const size = perVmDiskSize(reference.virtualSize);
      const { provisioning, format } = this.settings();
      if (provisioning === 'overlay') await createOverlay(this.source(), reference.format, disk, size);
      else await createCopy(this.source(), disk, format, size);
    } catch (err) {
      // The client hears that it failed; the host paths and qemu-img's words are the operator's (logged).
      throw new ManagerError('VM_PREPARE_FAILED', "the VM's disk could not be made from the reference image", { detail: (err as Error).message });
    }
  }

  contribute(command: QemuCommand, vm: VmContext): void {
    const { id: diskId, scsiId, format } = this.settings();
    command.add(
      new Drive([
        ['file', this.diskPath(vm)],
        ['if', 'none'],
        ['id', diskId],
        ['format', format],
      ]),
      new Device(
        'virtio-scsi-pci',
        [
          ['id', scsiId],
          ['disable-legacy', 'on'],
          ['iommu_platform', 'true'],
        ],
        QemuSection.Storage,
      ),
      new Device(
        'scsi-hd',
        [
          ['drive', diskId],
          ['bus', `${scsiId}.0`],
        ],
        QemuSection.Storage,
      ),
    );
  }

  async cleanup(vm: VmContext): Promise<void> {
    await rm(this.diskPath(vm), { force: true });
  }

  /** The per-VM disk: MANAGER_QEMU_DST_DISK_FILE ({id} template or directory), else inside the VM's directory. */
  diskPath(vm: VmContext): string {
    const configured = this.settings().destination;
    if (configured === '') return vm.file('disk.qcow2');
    if (configured.includes('{id}')) return path.resolve(configured.replaceAll('{id}', vm.id));
    return path.resolve(configured, `cvmDisk-${vm.id}.qcow2`);
  }

  private source(): string {
    return path.resolve(this.settings().source);
  }

  /** This plugin's own settings, typed. */
  private settings() {
    return this.config.read(diskSettings).disk;
  }
}
