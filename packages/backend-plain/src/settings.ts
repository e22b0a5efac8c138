import { formats as f, setting } from '@cocos-manager/core';

/** The firmware settings of plain VMs: OVMF code (shared, read-only) and a per-VM copy of the vars. */
export const plainSettings = {
  plain: {
    ovmfCode: {
      interface: setting({ env: 'MANAGER_QEMU_OVMF_CODE_IF', doc: 'Interface of the OVMF code drive.', default: 'pflash', format: f.nonEmptyText }),
      format: setting({ env: 'MANAGER_QEMU_OVMF_CODE_FORMAT', doc: 'Format of the OVMF code file.', default: 'raw', format: f.nonEmptyText }),
      unit: setting({ env: 'MANAGER_QEMU_OVMF_CODE_UNIT', doc: 'Unit number of the OVMF code drive.', default: '0', format: f.integer(0, 15) }),
      file: setting({ env: 'MANAGER_QEMU_OVMF_CODE_FILE', doc: 'OVMF code file.', default: '/usr/share/OVMF/OVMF_CODE.fd', format: f.nonEmptyText }),
      readonly: setting({ env: 'MANAGER_QEMU_OVMF_CODE_READONLY', doc: 'Whether the OVMF code drive is read-only.', default: 'on', format: f.qemuSwitch }),
    },
    ovmfVars: {
      interface: setting({ env: 'MANAGER_QEMU_OVMF_VARS_IF', doc: 'Interface of the OVMF vars drive.', default: 'pflash', format: f.nonEmptyText }),
      format: setting({ env: 'MANAGER_QEMU_OVMF_VARS_FORMAT', doc: 'Format of the OVMF vars file.', default: 'raw', format: f.nonEmptyText }),
      unit: setting({ env: 'MANAGER_QEMU_OVMF_VARS_UNIT', doc: 'Unit number of the OVMF vars drive.', default: '1', format: f.integer(0, 15) }),
      file: setting({
        env: 'MANAGER_QEMU_OVMF_VARS_FILE',
        doc: 'OVMF vars template; each VM gets its own copy.',
        default: '/usr/share/OVMF/OVMF_VARS.fd',
        format: f.nonEmptyText,
      }),
    },
  },
};
