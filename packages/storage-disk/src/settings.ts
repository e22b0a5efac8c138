import { formats as f, setting } from '@cocos-manager/core';

export const PROVISIONING_MODES = ['overlay', 'copy'] as const;
export type ProvisioningMode = (typeof PROVISIONING_MODES)[number];

export const diskSettings = {
  disk: {
    enable: setting({
      env: 'MANAGER_QEMU_ENABLE_DISK',
      doc: 'Boot VMs from a per-VM disk made from MANAGER_QEMU_SRC_DISK_FILE instead of -kernel/-initrd.',
      default: 'false',
      format: f.boolean,
    }),
    source: setting({
      env: 'MANAGER_QEMU_SRC_DISK_FILE',
      doc: "Reference disk image (qcow2 or raw) each VM's disk is made from; checked at start with qemu-img info.",
      default: 'img/uvc_os.qcow2',
      format: f.nonEmptyText,
    }),
    destination: setting({
      env: 'MANAGER_QEMU_DST_DISK_FILE',
      doc: "Where per-VM disks go: a path containing {id} (replaced by the VM id) or a directory (cvmDisk-<id>.qcow2 inside it). Empty: disk.qcow2 in the VM's run directory.",
      default: '',
      format: f.text,
    }),
    id: setting({ env: 'MANAGER_QEMU_DISK_ID', doc: 'Drive id of the per-VM disk.', default: 'disk0', format: f.qemuId }),
    format: setting({ env: 'MANAGER_QEMU_DISK_FORMAT', doc: 'Format of the per-VM disk.', default: 'qcow2', format: f.oneOf(['qcow2', 'raw'] as const) }),
    scsiId: setting({ env: 'MANAGER_QEMU_DISK_SCSI_ID', doc: 'Id of the virtio-scsi controller the disk hangs on.', default: 'scsi0', format: f.qemuId }),
    provisioning: setting({
      env: 'MANAGER_QEMU_DISK_PROVISIONING',
      doc: 'overlay: a qcow2 backed by the read-only reference, made in constant time; copy: an independent full copy (qemu-img convert + resize), as the Go manager does.',
      default: 'overlay',
      format: f.oneOf(PROVISIONING_MODES),
    }),
  },
};
