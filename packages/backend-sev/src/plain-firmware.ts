import { ConfigError, type ManagerConfig } from '@cocos-manager/core';

/** The pflash firmware of a plain VM, as the plain backend's settings give it. */
export interface PflashFirmware {
  readonly code: { interface: string; format: string; unit: number; file: string; readonly: string };
  readonly vars: { interface: string; format: string; unit: number; file: string };
}

/**
 * SEV guests boot the plain backend's OVMF pflash drives (seeds/002: the same
 * MANAGER_QEMU_OVMF_CODE_* and MANAGER_QEMU_OVMF_VARS_* variables). A plugin
 * imports no other plugin and no variable is declared twice, so they are read
 * by key from the loaded configuration; a build without backend-plain says so.
 */
export function plainFirmware(config: ManagerConfig): PflashFirmware {
  const get = <T>(key: string): T => {
    try {
      return config.get<T>(`plain.${key}`);
    } catch {
      throw new ConfigError(
        `the sev backend boots the plain backend's OVMF pflash drives (MANAGER_QEMU_OVMF_CODE_FILE, MANAGER_QEMU_OVMF_VARS_FILE), but @cocos-manager/backend-plain is not loaded`,
      );
    }
  };
  return {
    code: {
      interface: get('ovmfCode.interface'),
      format: get('ovmfCode.format'),
      unit: get('ovmfCode.unit'),
      file: get('ovmfCode.file'),
      readonly: get('ovmfCode.readonly'),
    },
    vars: { interface: get('ovmfVars.interface'), format: get('ovmfVars.format'), unit: get('ovmfVars.unit'), file: get('ovmfVars.file') },
  };
}
