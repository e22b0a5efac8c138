import { formats as f, setting } from '@cocos-manager/core';

const measurement = (env: string, what: string) =>
  setting({ env, doc: `Expected ${what} (hex, 48 bytes); empty leaves it out of the policy.`, default: '', format: f.hexBytes(48, what) });

/** The settings of TDX VMs and their attestation policy. */
export const tdxSettings = {
  tdx: {
    enable: setting({
      env: 'MANAGER_QEMU_ENABLE_TDX',
      doc: 'Run VMs with the tdx backend (true), never (false), or auto-detect (empty).',
      default: '',
      format: f.optionalBoolean,
    }),
    id: setting({ env: 'MANAGER_QEMU_TDX_ID', doc: 'Id prefix of the tdx-guest object (a per-VM suffix is added).', default: 'tdx0', format: f.qemuId }),
    quoteGenerationPort: setting({
      env: 'MANAGER_QEMU_QUOTE_GENERATION_PORT',
      doc: 'vsock port of the Quote Generation Service (QGS) on the host (CID 2).',
      default: '4050',
      format: f.port,
    }),
    ovmfFile: setting({
      env: 'MANAGER_QEMU_OVMF_FILE',
      doc: 'OVMF image for TDX guests (code and vars in one file), passed with -bios.',
      default: '/usr/share/ovmf/OVMF.fd',
      format: f.nonEmptyText,
    }),
  },
  tdxPolicy: {
    mrSeam: measurement('MANAGER_MRSEAM', 'MRSEAM (TDX module measurement)'),
    tdAttributes: setting({
      env: 'MANAGER_TD_ATTRIBUTES',
      doc: 'Expected TD attributes (hex, 8 bytes); empty leaves them out.',
      default: '',
      format: f.hexBytes(8, 'TD attributes'),
    }),
    xfam: setting({ env: 'MANAGER_XFAM', doc: 'Expected XFAM (hex, 8 bytes); empty leaves it out.', default: '', format: f.hexBytes(8, 'XFAM') }),
    mrTd: setting({
      env: 'MANAGER_MRTD',
      doc: 'Expected MRTD (hex, 48 bytes). Empty: computed from the TDVF metadata of MANAGER_QEMU_OVMF_FILE; set: it must equal the computed value, or start-up stops.',
      default: '',
      format: f.hexBytes(48, 'MRTD (initial TD measurement)'),
    }),
    rtmr0: measurement('MANAGER_RTMR0', 'RTMR[0] (firmware configuration)'),
    rtmr1: measurement('MANAGER_RTMR1', 'RTMR[1] (kernel)'),
    rtmr2: measurement('MANAGER_RTMR2', 'RTMR[2] (initramfs and command line)'),
    rtmr3: measurement('MANAGER_RTMR3', 'RTMR[3]'),
  },
};
