import { checkId, QemuElementError, QemuObject, QemuSection } from '@cocos-manager/core';
import { decodeHostData } from './host-data.js';

/** `-object sev-snp-guest,id=<id>,cbitpos=<n>,reduced-phys-bits=<n>[,host-data=<base64>]`. */
export class SevSnpGuest extends QemuObject {
  constructor(options: { id: string; cbitPos: number; reducedPhysBits: number; hostData?: string }) {
    checkId('sev-snp-guest', 'id', options.id);
    if (!Number.isInteger(options.cbitPos) || options.cbitPos < 32 || options.cbitPos > 63) {
      throw new QemuElementError('sev-snp-guest', `cbitpos ${options.cbitPos} must be an integer from 32 to 63`);
    }
    if (!Number.isInteger(options.reducedPhysBits) || options.reducedPhysBits < 0) {
      throw new QemuElementError('sev-snp-guest', `reduced-phys-bits ${options.reducedPhysBits} must be a non-negative integer`);
    }
    const props: Array<[string, string | number]> = [
      ['cbitpos', options.cbitPos],
      ['reduced-phys-bits', options.reducedPhysBits],
    ];
    if (options.hostData !== undefined) {
      decodeHostData(options.hostData);
      props.push(['host-data', options.hostData]);
    }
    super('sev-snp-guest', options.id, props, QemuSection.Confidential);
  }
}

/** `-object igvm-cfg,id=<id>,file=<igvm>`: the IGVM image (SVSM + OVMF) the guest launches from. */
export class IgvmConfig extends QemuObject {
  constructor(id: string, file: string) {
    if (file.trim() === '') throw new QemuElementError('igvm-cfg', 'file must not be empty');
    super('igvm-cfg', id, [['file', file]], QemuSection.Confidential);
  }
}
