import { QemuSection, type QemuElement } from '../element.js';
import { checkId, checkNonEmpty, renderOption } from '../properties.js';

/**
 * `-fsdev local,id=<id>,path=<dir>,security_model=<model>[,readonly=on]`: a
 * host directory QEMU can export. Read-only for the manager's shares: a guest
 * must not write into (or fill) the host's run directory.
 */
export class LocalFsdev implements QemuElement {
  readonly section = QemuSection.SharedFilesystems;
  constructor(
    readonly id: string,
    readonly path: string,
    readonly securityModel: 'mapped' | 'mapped-xattr' | 'mapped-file' | 'passthrough' | 'none' = 'mapped',
    readonly readonly = false,
  ) {
    checkId('fsdev', 'id', id);
    checkNonEmpty('fsdev', 'path', path);
  }
  render(): string[] {
    const options: Array<[string, string]> = [
      ['id', this.id],
      ['path', this.path],
      ['security_model', this.securityModel],
    ];
    if (this.readonly) options.push(['readonly', 'on']);
    return ['-fsdev', renderOption('local', options)];
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
    return [
      '-device',
      renderOption('virtio-9p-pci', [
        ['fsdev', this.fsdevId],
        ['mount_tag', this.mountTag],
      ]),
    ];
  }
}
