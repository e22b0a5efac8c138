import { checkId, QemuElementError, QemuObject, QemuSection } from '@cocos-manager/core';

/** `-object sev-guest,id=<id>,cbitpos=<n>,reduced-phys-bits=<n>[,policy=<0x..>][,kernel-hashes=on]`. */
export class SevGuest extends QemuObject {
  constructor(options: { id: string; cbitPos: number; reducedPhysBits: number; policy?: number; kernelHashes: boolean }) {
    checkId('sev-guest', 'id', options.id);
    if (!Number.isInteger(options.cbitPos) || options.cbitPos < 32 || options.cbitPos > 63) {
      throw new QemuElementError('sev-guest', `cbitpos ${options.cbitPos} must be an integer from 32 to 63`);
    }
    if (!Number.isInteger(options.reducedPhysBits) || options.reducedPhysBits < 0) {
      throw new QemuElementError('sev-guest', `reduced-phys-bits ${options.reducedPhysBits} must be a non-negative integer`);
    }
    const props: Array<[string, string | number]> = [
      ['cbitpos', options.cbitPos],
      ['reduced-phys-bits', options.reducedPhysBits],
    ];
    if (options.policy !== undefined) props.push(['policy', `0x${options.policy.toString(16)}`]);
    if (options.kernelHashes) props.push(['kernel-hashes', 'on']);
    super('sev-guest', options.id, props, QemuSection.Confidential);
  }
}
