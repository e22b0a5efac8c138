import { formats as f, setting } from '@cocos-manager/core';

/** The settings of SEV-SNP VMs and their attestation policy. */
export const sevSnpSettings = {
  sevSnp: {
    enable: setting({
      env: 'MANAGER_QEMU_ENABLE_SEV_SNP',
      doc: 'Run VMs with the sev-snp backend (true), never (false), or auto-detect (empty).',
      default: '',
      format: f.optionalBoolean,
    }),
    id: setting({
      env: 'MANAGER_QEMU_SEV_SNP_ID',
      doc: 'Id prefix of the sev-snp-guest object (a per-VM suffix is added).',
      default: 'sev0',
      format: f.qemuId,
    }),
    cbitPos: setting({
      env: 'MANAGER_QEMU_SEV_SNP_CBITPOS',
      aliases: ['MANAGER_QEMU_SEV_SNP_CBIT_POS'],
      doc: 'Position of the C-bit in a physical address.',
      default: '51',
      format: f.integer(32, 63),
    }),
    reducedPhysBits: setting({
      env: 'MANAGER_QEMU_SEV_SNP_REDUCED_PHYS_BITS',
      doc: 'Physical address bits lost to memory encryption.',
      default: '1',
      format: f.integer(0, 63),
    }),
    enableHostData: setting({
      env: 'MANAGER_QEMU_ENABLE_HOST_DATA',
      doc: 'Pass MANAGER_QEMU_HOST_DATA to the guest (it appears in attestation reports and the policy).',
      default: 'false',
      format: f.boolean,
    }),
    hostData: setting({ env: 'MANAGER_QEMU_HOST_DATA', doc: 'SEV-SNP host data: base64 of exactly 32 bytes.', default: '', format: f.text }),
    igvmId: setting({ env: 'MANAGER_QEMU_IGVM_ID', doc: 'Id of the igvm-cfg object.', default: 'igvm0', format: f.qemuId }),
    igvmFile: setting({
      env: 'MANAGER_QEMU_IGVM_FILE',
      doc: 'IGVM file holding the COCONUT-SVSM vTPM and OVMF.',
      default: '/root/coconut-qemu.igvm',
      format: f.nonEmptyText,
    }),
  },
  snpPolicy: {
    igvmMeasureBinary: setting({
      env: 'MANAGER_IGVMMEASURE_BINARY',
      doc: 'igvmmeasure binary that computes the launch measurement of the IGVM file instead of the native engine (its answer is cross-checked, a warning on mismatch). Empty: computed natively, unless MANAGER_ATTESTATION_POLICY_BINARY_PATH is set.',
      default: '',
      format: f.text,
    }),
    binaryPath: setting({
      env: 'MANAGER_ATTESTATION_POLICY_BINARY_PATH',
      aliases: ['MANAGER_ATTESTATION_POLICY_BINARY'],
      doc: 'Directory of the attestation policy helper binaries: set to other than its default, its igvmmeasure computes the launch measurement (cross-checked against the native one).',
      default: '../../build',
      format: f.nonEmptyText,
    }),
    pcrValues: setting({
      env: 'MANAGER_PCR_VALUES',
      doc: 'JSON file of expected vTPM PCR values ({"pcr_values": {"sha256": {...}, "sha384": {...}}}), merged into the policy.',
      default: '',
      format: f.text,
    }),
    policy: setting({ env: 'MANAGER_SEV_SNP_POLICY', doc: 'Expected SEV-SNP guest launch policy (64-bit).', default: '196608', format: f.unsignedDecimal }),
    product: setting({
      env: 'MANAGER_SEV_SNP_PRODUCT',
      doc: "AMD product line for the root of trust (Milan, Genoa, Turin). Empty: from this host's CPU, else Milan.",
      default: '',
      format: f.oneOf(['', 'Milan', 'Genoa', 'Turin'] as const),
    }),
    minimumLaunchTcb: setting({
      env: 'MANAGER_SEV_SNP_MINIMUM_LAUNCH_TCB',
      doc: 'Minimum launch TCB version (64-bit) the verifier accepts.',
      default: '0',
      format: f.unsignedDecimal,
    }),
    vmpl: setting({
      env: 'MANAGER_SEV_SNP_VMPL',
      doc: 'VMPL the attestation report must come from (COCONUT-SVSM guests run the OS at VMPL 2; the vTPM reports at 0).',
      default: '0',
      format: f.integer(0, 3),
    }),
  },
};
