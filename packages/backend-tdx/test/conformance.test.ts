import { describeTeeBackendConformance } from '@cocos-manager/testing';
import plugin from '../src/index.js';

// A plugin's tests may not load @cocos-manager/measure, which computes the MRTD from the TDVF
// firmware; MANAGER_MRTD gives it (without either, the document would carry no measurement at all).
describeTeeBackendConformance({
  plugin,
  backendName: 'tdx',
  env: { MANAGER_QEMU_ENABLE_KVM: 'false', MANAGER_MRTD: '5a'.repeat(48) },
  attestation: 'document',
  invalidEnv: { MANAGER_QEMU_OVMF_FILE: '/nonexistent/OVMF.fd' },
});
