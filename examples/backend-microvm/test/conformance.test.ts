import { describeTeeBackendConformance } from '@cocos-manager/testing';
import plugin from '../src/index.js';

describeTeeBackendConformance({ plugin, backendName: 'microvm', env: { MANAGER_QEMU_MACHINE: 'microvm', MANAGER_QEMU_ENABLE_KVM: 'false' } });
