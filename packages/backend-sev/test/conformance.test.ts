import { definePlugin, formats as f, setting } from '@cocos-manager/core';
import { describeTeeBackendConformance } from '@cocos-manager/testing';
import plugin from '../src/index.js';

// The sev backend boots backend-plain's OVMF pflash drives; a plugin may not import another
// (module boundaries), so a companion declares the same keys and variables with Debian's files.
const text = (env: string, value: string) => setting({ env, doc: env, default: value, format: f.nonEmptyText });
const unit = (env: string, value: string) => setting({ env, doc: env, default: value, format: f.integer(0, 15) });
const plainFirmwareSettings = {
  plain: {
    ovmfCode: {
      interface: text('MANAGER_QEMU_OVMF_CODE_IF', 'pflash'),
      format: text('MANAGER_QEMU_OVMF_CODE_FORMAT', 'raw'),
      unit: unit('MANAGER_QEMU_OVMF_CODE_UNIT', '0'),
      file: text('MANAGER_QEMU_OVMF_CODE_FILE', '/usr/share/OVMF/OVMF_CODE.fd'),
      readonly: text('MANAGER_QEMU_OVMF_CODE_READONLY', 'on'),
    },
    ovmfVars: {
      interface: text('MANAGER_QEMU_OVMF_VARS_IF', 'pflash'),
      format: text('MANAGER_QEMU_OVMF_VARS_FORMAT', 'raw'),
      unit: unit('MANAGER_QEMU_OVMF_VARS_UNIT', '1'),
      file: text('MANAGER_QEMU_OVMF_VARS_FILE', '/usr/share/OVMF/OVMF_VARS.fd'),
    },
  },
};
const plainFirmwarePlugin = definePlugin({
  name: 'plain-firmware-settings',
  version: '0.1.0',
  coreVersionRange: '^0.1.0',
  configSchema: plainFirmwareSettings,
  provides: [],
  register() {},
});

// Its launch measurement is computed by @cocos-manager/measure, which a plugin's tests may not load
// (module boundaries): without it the policy is refused with FAILED_PRECONDITION, as in a build without it.
describeTeeBackendConformance({
  plugin,
  backendName: 'sev',
  companions: [plainFirmwarePlugin],
  env: { MANAGER_QEMU_ENABLE_KVM: 'false' },
  attestation: 'refused',
  invalidEnv: { MANAGER_QEMU_OVMF_VARS_FILE: '/nonexistent/OVMF_VARS.fd' },
});
