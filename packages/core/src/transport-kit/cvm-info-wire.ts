import type { CvmInfo } from '../api/vm-types.js';

/** CVMInfo as both APIs send it: the Go manager's CVMInfoRes field names. */
export interface CvmInfoWire {
  readonly id: string;
  readonly ovmf_version: string;
  readonly cpu_num: number;
  readonly cpu_type: string;
  readonly kernel_cmd: string;
  readonly eos_version: string;
}

export function cvmInfoWire(info: CvmInfo): CvmInfoWire {
  return {
    id: info.id,
    ovmf_version: info.ovmfVersion,
    cpu_num: info.cpuNum,
    cpu_type: info.cpuType,
    kernel_cmd: info.kernelCmd,
    eos_version: info.eosVersion,
  };
}
