import type { QemuElement, VmContext } from '@cocos-manager/core';
import { SocketChardev, VirtioSerialPci, VirtSerialPort } from './agent-elements.js';

/**
 * The virtio-serial channel as a guest sees it: two named ports
 * (/dev/virtio-ports/<name>) on one virtio-serial-pci bus, each backed by a
 * Unix socket of the VM's own directory where QEMU listens.
 */
export const VIRTIO_SERIAL = {
  busId: 'agent-serial0',
  /** Host → guest: the computation manifest (JSON), written once — vsock port 9999's job. */
  manifest: { port: 'cocos.manifest', chardev: 'agent-manifest', socket: 'agent-manifest.sock' },
  /** Guest → host: the agent's framed logs and events, acknowledged — vsock port 9997's job. */
  events: { port: 'cocos.events', chardev: 'agent-events', socket: 'agent-events.sock' },
} as const;

/** The vsock ports of the agent protocol (upstream's): the agent listens on 9999 for its manifest, the host on 9997 for logs and events. */
export const VSOCK_PORTS = { manifest: 9999, events: 9997 } as const;

/** The QEMU elements of a VM's virtio-serial channel. */
export function virtioSerialElements(vm: VmContext): QemuElement[] {
  const bus = new VirtioSerialPci(VIRTIO_SERIAL.busId);
  const manifest = new SocketChardev(VIRTIO_SERIAL.manifest.chardev, vm.file(VIRTIO_SERIAL.manifest.socket));
  const events = new SocketChardev(VIRTIO_SERIAL.events.chardev, vm.file(VIRTIO_SERIAL.events.socket));
  return [bus, manifest, new VirtSerialPort(bus, manifest, VIRTIO_SERIAL.manifest.port), events, new VirtSerialPort(bus, events, VIRTIO_SERIAL.events.port)];
}
