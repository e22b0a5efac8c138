import { describe, expect, it } from 'vitest';
import { Device, QemuCommand, QemuSection, UserNetdev, VmContext, emptyCreateVmRequest } from '@cocos-manager/core';
import { SocketChardev, VhostVsockPci, VirtioSerialPci, VirtSerialPort, virtioSerialElements } from '../src/index.js';

describe('agent channel QEMU elements (expected output)', () => {
  it('vhost-vsock-pci with the guest CID', () => {
    expect(new VhostVsockPci('vhost-vsock-pci0', 3).render()).toEqual(['-device', 'vhost-vsock-pci,id=vhost-vsock-pci0,guest-cid=3']);
    expect(() => new VhostVsockPci('vhost-vsock-pci0', 2)).toThrow('vhost-vsock-pci: guest-cid 2 is not within 3-4294967294');
    expect(() => new VhostVsockPci('v,x=y', 3)).toThrow('vhost-vsock-pci: id "v,x=y" must start with a letter');
  });

  it('virtio-serial-pci, a socket chardev QEMU listens on, a named port on it', () => {
    const bus = new VirtioSerialPci('agent-serial0');
    const chardev = new SocketChardev('agent-events', '/run/cocos/vm-1/agent-events.sock');
    expect(bus.render()).toEqual(['-device', 'virtio-serial-pci,id=agent-serial0']);
    expect(chardev.render()).toEqual(['-chardev', 'socket,id=agent-events,path=/run/cocos/vm-1/agent-events.sock,server=on,wait=off']);
    expect(new VirtSerialPort(bus, chardev, 'cocos.events').render()).toEqual([
      '-device',
      'virtserialport,bus=agent-serial0.0,chardev=agent-events,name=cocos.events',
    ]);
  });

  it('escapes a comma in a socket path and refuses one over sun_path or relative', () => {
    expect(new SocketChardev('c', '/run/a,b/x.sock').render()[1]).toBe('socket,id=c,path=/run/a,,b/x.sock,server=on,wait=off');
    expect(() => new SocketChardev('c', `/${'a'.repeat(107)}`)).toThrow('chardev: socket path /aaa');
    expect(() => new SocketChardev('c', `/${'a'.repeat(107)}`)).toThrow('is 108 bytes; unix sockets allow at most 107 (use a shorter MANAGER_RUN_DIR)');
    expect(() => new SocketChardev('c', 'x.sock')).toThrow('chardev: socket path x.sock is not absolute');
  });

  it('refuses a port name the guest could not see as /dev/virtio-ports/<name>', () => {
    const bus = new VirtioSerialPci('s');
    const chardev = new SocketChardev('c', '/x.sock');
    expect(() => new VirtSerialPort(bus, chardev, 'a,name=b')).toThrow("virtserialport: name \"a,,name=b\" must be lower-case letters, digits, '.' or '-'");
    expect(() => new VirtSerialPort(bus, chardev, '../x')).toThrow(/must be lower-case/);
  });

  it("a VM's virtio-serial elements: the bus, then each port after its chardev, between the disks and the TEE", () => {
    const vm = new VmContext('vm-1', '/run/cocos/vm-1', 6100, emptyCreateVmRequest(), 'quiet');
    const command = new QemuCommand('qemu').add(
      new Device('tee-object', [['id', 't']], QemuSection.Confidential),
      ...virtioSerialElements(vm),
      new Device('scsi-hd', [['drive', 'd']], QemuSection.Storage),
      new UserNetdev('n', [{ hostPort: 6100, guestPort: 7002 }]),
    );
    expect(command.args()).toEqual([
      '-netdev',
      'user,id=n,hostfwd=tcp::6100-:7002',
      '-device',
      'scsi-hd,drive=d',
      '-device',
      'virtio-serial-pci,id=agent-serial0',
      '-chardev',
      'socket,id=agent-manifest,path=/run/cocos/vm-1/agent-manifest.sock,server=on,wait=off',
      '-device',
      'virtserialport,bus=agent-serial0.0,chardev=agent-manifest,name=cocos.manifest',
      '-chardev',
      'socket,id=agent-events,path=/run/cocos/vm-1/agent-events.sock,server=on,wait=off',
      '-device',
      'virtserialport,bus=agent-serial0.0,chardev=agent-events,name=cocos.events',
      '-device',
      'tee-object,id=t',
    ]);
  });
});
