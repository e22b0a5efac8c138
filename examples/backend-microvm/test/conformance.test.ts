import { describeTeeBackendConformance } from '@cocos-manager/testing';
import plugin from '../src/index.js';

// Development VMs carry no attestation: the policy is refused.
describeTeeBackendConformance({
  plugin,
  backendName: 'microvm',
  env: { MANAGER_QEMU_MACHINE: 'microvm', MANAGER_QEMU_ENABLE_KVM: 'false' },
  attestation: 'refused',
  invalidEnv: { MANAGER_QEMU_MACHINE: 'q35' },
});
