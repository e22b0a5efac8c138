import { checkPort, JsonQemuObject, QemuSection } from '@cocos-manager/core';

/**
 * `-object {"qom-type":"tdx-guest","id":…,"quote-generation-socket":{"type":"vsock","cid":"2","port":…}}`:
 * a trust domain whose quotes the host's QGS signs over vsock (CID 2 is the host).
 */
export class TdxGuest extends JsonQemuObject {
  constructor(id: string, quoteGenerationPort: number) {
    checkPort('tdx-guest', 'quote generation port', quoteGenerationPort);
    super({ 'qom-type': 'tdx-guest', id, 'quote-generation-socket': { type: 'vsock', cid: '2', port: String(quoteGenerationPort) } }, QemuSection.Confidential);
  }
}
