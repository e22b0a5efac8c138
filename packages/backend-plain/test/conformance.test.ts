import { describeTeeBackendConformance } from '@cocos-manager/testing';
import plugin from '../src/index.js';

// Plain VMs carry no attestation: the policy is refused.
describeTeeBackendConformance({
  plugin,
  backendName: 'plain',
  env: { MANAGER_QEMU_ENABLE_KVM: 'false' },
  attestation: 'refused',
  invalidEnv: { MANAGER_QEMU_OVMF_VARS_FILE: '/nonexistent/OVMF_VARS.fd' },
});
