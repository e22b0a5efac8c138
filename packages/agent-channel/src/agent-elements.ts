import { checkId, Device, escapeOptionValue, QemuElementError, QemuSection, renderOption, type QemuElement } from '@cocos-manager/core';
import { FIRST_GUEST_CID, LAST_GUEST_CID } from './cid-pool.js';

/** `-device vhost-vsock-pci,id=<id>,guest-cid=<cid>`: the guest's vsock, at the CID the manager gave it. */
export class VhostVsockPci extends Device {
  constructor(id: string, guestCid: number) {
    checkId('vhost-vsock-pci', 'id', id);
    if (!Number.isInteger(guestCid) || guestCid < FIRST_GUEST_CID || guestCid > LAST_GUEST_CID) {
      throw new QemuElementError('vhost-vsock-pci', `guest-cid ${guestCid} is not within ${FIRST_GUEST_CID}-${LAST_GUEST_CID}`);
    }
    super(
      'vhost-vsock-pci',
      [
        ['id', id],
        ['guest-cid', guestCid],
      ],
      QemuSection.Devices,
    );
  }
}

/** `-device virtio-serial-pci,id=<id>`: the bus of the agent's serial ports. */
export class VirtioSerialPci extends Device {
  constructor(readonly id: string) {
    checkId('virtio-serial-pci', 'id', id);
    super('virtio-serial-pci', [['id', id]], QemuSection.Devices);
  }
}

// sun_path is 108 bytes including the terminating NUL.
const MAX_UNIX_SOCKET_PATH = 107;

/**
 * `-chardev socket,id=<id>,path=<path>,server=on,wait=off`: QEMU listens on a
 * Unix socket of the VM's directory and does not wait for the manager to
 * connect before the guest runs.
 */
export class SocketChardev implements QemuElement {
  readonly section = QemuSection.Devices;
  constructor(
    readonly id: string,
    readonly path: string,
  ) {
    checkId('chardev', 'id', id);
    if (!path.startsWith('/')) throw new QemuElementError('chardev', `socket path ${path} is not absolute`);
    if (Buffer.byteLength(path) > MAX_UNIX_SOCKET_PATH) {
      throw new QemuElementError(
        'chardev',
        `socket path ${path} is ${Buffer.byteLength(path)} bytes; unix sockets allow at most ${MAX_UNIX_SOCKET_PATH} (use a shorter MANAGER_RUN_DIR)`,
      );
    }
  }
  render(): string[] {
    return [
      '-chardev',
      renderOption('socket', [
        ['id', this.id],
        ['path', this.path],
        ['server', 'on'],
        ['wait', 'off'],
      ]),
    ];
  }
}

/** A virtio-serial port name as the guest sees it (/dev/virtio-ports/<name>). */
const PORT_NAME = /^[a-z][a-z0-9.-]{0,62}$/;

/** `-device virtserialport,bus=<serial>.0,chardev=<chardev>,name=<name>`: one named port of the agent. */
export class VirtSerialPort extends Device {
  constructor(bus: VirtioSerialPci, chardev: SocketChardev, name: string) {
    if (!PORT_NAME.test(name)) throw new QemuElementError('virtserialport', `name "${escapeOptionValue(name)}" must be lower-case letters, digits, '.' or '-'`);
    super(
      'virtserialport',
      [
        ['bus', `${bus.id}.0`],
        ['chardev', chardev.id],
        ['name', name],
      ],
      QemuSection.Devices,
    );
  }
}
