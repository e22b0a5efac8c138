import { describe, expect, it } from 'vitest';
import { Device, QemuCommand, QemuSection, UserNetdev } from '@cocos-manager/core';
import { PcieRootPort, PciMmio64Window, VfioPci } from '../src/index.js';

describe('GPU QEMU elements (expected output, as the Go manager renders them)', () => {
  it('pcie-root-port', () => {
    expect(new PcieRootPort('pci.1', 'pcie.0').render()).toEqual(['-device', 'pcie-root-port,id=pci.1,bus=pcie.0']);
    expect(() => new PcieRootPort('1bad', 'pcie.0')).toThrow('pcie-root-port: id "1bad" must start with a letter');
  });

  it('vfio-pci', () => {
    expect(new VfioPci('0000:41:00.0', 'pci.1').render()).toEqual(['-device', 'vfio-pci,host=0000:41:00.0,bus=pci.1']);
    expect(() => new VfioPci('41:00.0,x=y', 'pci.1')).toThrow('vfio-pci: host "41:00.0,x=y" is not a PCI address DDDD:BB:DD.F');
  });

  it('fw_cfg X-PciMmio64Mb', () => {
    expect(new PciMmio64Window(262144).render()).toEqual(['-fw_cfg', 'name=opt/ovmf/X-PciMmio64Mb,string=262144']);
    expect(() => new PciMmio64Window(0)).toThrow('fw_cfg: X-PciMmio64Mb 0 is not a positive number of MiB');
  });

  it('come after the disk elements and before the TEE ones, whatever order they were added in', () => {
    const command = new QemuCommand('qemu');
    command.add(
      new Device('tee-object', [['id', 't']], QemuSection.Confidential),
      new PcieRootPort('pci.1', 'pcie.0'),
      new VfioPci('0000:41:00.0', 'pci.1'),
      new PciMmio64Window(1024),
      new Device('scsi-hd', [['drive', 'd']], QemuSection.Storage),
      new UserNetdev('n', [{ hostPort: 6100, guestPort: 7002 }]),
    );
    expect(command.args().filter((a) => !a.startsWith('-'))).toEqual([
      'user,id=n,hostfwd=tcp::6100-:7002',
      'scsi-hd,drive=d',
      'pcie-root-port,id=pci.1,bus=pcie.0',
      'vfio-pci,host=0000:41:00.0,bus=pci.1',
      'name=opt/ovmf/X-PciMmio64Mb,string=1024',
      'tee-object,id=t',
    ]);
  });
});
