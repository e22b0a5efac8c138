import { formats as f, setting } from '@cocos-manager/core';

/** The settings of SEV / SEV-ES VMs (seeds/002) and their attestation policy. */
export const sevSettings = {
  sev: {
    enable: setting({
      env: 'MANAGER_QEMU_ENABLE_SEV',
      doc: 'Run VMs with the sev backend (AMD SEV / SEV-ES): true forces it, false (the default, as in the Go manager) rules it out, empty auto-detects it (below SEV-SNP).',
      default: 'false',
      format: f.optionalBoolean,
    }),
    id: setting({ env: 'MANAGER_QEMU_SEV_ID', doc: 'Id of the sev-guest object (-machine memory-encryption names it).', default: 'sev0', format: f.qemuId }),
    cbitPos: setting({ env: 'MANAGER_QEMU_SEV_CBITPOS', doc: 'Position of the C-bit in a physical address.', default: '51', format: f.integer(32, 63) }),
    reducedPhysBits: setting({
      env: 'MANAGER_QEMU_SEV_REDUCED_PHYS_BITS',
      doc: 'Physical address bits lost to memory encryption.',
      default: '1',
      format: f.integer(0, 63),
    }),
    enableEs: setting({
      env: 'MANAGER_QEMU_ENABLE_SEV_ES',
      doc: 'Run SEV-ES guests (encrypted register state; guest policy bit 2).',
      default: 'false',
      format: f.boolean,
    }),
    policy: setting({
      env: 'MANAGER_QEMU_SEV_POLICY',
      doc: 'SEV guest policy (32-bit, decimal or 0x hex). Empty: 0x1 (no debug), or 0x5 with SEV-ES. Bit 2 must agree with MANAGER_QEMU_ENABLE_SEV_ES.',
      default: '',
      format: f.text,
    }),
    kernelHash: setting({
      env: 'MANAGER_QEMU_KERNEL_HASH',
      doc: 'Measure the direct-boot kernel, initrd and command line (sev-guest kernel-hashes=on).',
      default: 'false',
      format: f.boolean,
    }),
  },
};
