import { describeTeeBackendConformance } from '@cocos-manager/testing';
import plugin from '../src/index.js';

describeTeeBackendConformance({ plugin, backendName: 'plain', env: { MANAGER_QEMU_ENABLE_KVM: 'false' } });
