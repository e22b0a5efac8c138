import { QemuSection, type QemuElement } from '../element.js';
import { checkId, checkPort } from '../properties.js';

export interface HostForward {
  readonly hostPort: number;
  readonly guestPort: number;
  /** Host address to bind; empty binds every address, as the Go manager does. */
  readonly hostAddress?: string;
}

/** `-netdev user,id=<id>,hostfwd=tcp:<addr>:<host>-:<guest>`: user-mode networking with port forwards. */
export class UserNetdev implements QemuElement {
  readonly section = QemuSection.Network;
  constructor(
    readonly id: string,
    readonly forwards: readonly HostForward[],
  ) {
    checkId('netdev', 'id', id);
    for (const fwd of forwards) {
      checkPort('netdev', 'host port', fwd.hostPort);
      checkPort('netdev', 'guest port', fwd.guestPort);
    }
  }
  render(): string[] {
    const fwds = this.forwards.map((f) => `hostfwd=tcp:${f.hostAddress ?? ''}:${f.hostPort}-:${f.guestPort}`);
    return ['-netdev', ['user', `id=${this.id}`, ...fwds].join(',')];
  }
}
