import { QemuSection, type QemuElement } from '../element.js';
import { checkId, checkNonEmpty, renderOption } from '../properties.js';

/** `-fsdev local,id=<id>,path=<dir>,security_model=<model>`: a host directory QEMU can export. */
export class LocalFsdev implements QemuElement {
  readonly section = QemuSection.SharedFilesystems;
  constructor(
    readonly id: string,
    readonly path: string,
    readonly securityModel: 'mapped' | 'mapped-xattr' | 'mapped-file' | 'passthrough' | 'none' = 'mapped',
  ) {
    checkId('fsdev', 'id', id);
    checkNonEmpty('fsdev', 'path', path);
  }
  render(): string[] {
    return ['-fsdev', renderOption('local', [['id', this.id], ['path', this.path], ['security_model', this.securityModel]])];
  }
}

/** `-device virtio-9p-pci,fsdev=<id>,mount_tag=<tag>`: the guest side of a 9p share. */
export class Virtio9pDevice implements QemuElement {
  readonly section = QemuSection.SharedFilesystems;
  constructor(
    readonly fsdevId: string,
    readonly mountTag: string,
  ) {
    checkId('virtio-9p-pci', 'fsdev', fsdevId);
    checkId('virtio-9p-pci', 'mount_tag', mountTag);
  }
  render(): string[] {
    return ['-device', renderOption('virtio-9p-pci', [['fsdev', this.fsdevId], ['mount_tag', this.mountTag]])];
  }
}
