import { describe, expect, it } from 'vitest';
import {
  Bios,
  Cpu,
  Device,
  Drive,
  EnableKvm,
  GuestName,
  Initrd,
  JsonQemuObject,
  Kernel,
  KernelCommandLine,
  LocalFsdev,
  Machine,
  MachineProperties,
  Memory,
  Monitor,
  NoDefaults,
  NoGraphic,
  PflashDrive,
  QemuCommand,
  QemuObject,
  QemuSection,
  Smp,
  UserNetdev,
  Virtio9pDevice,
  VirtioNetPci,
} from '../src/index.js';

describe('QEMU elements render their own arguments', () => {
  it.each([
    ['-enable-kvm', new EnableKvm(), ['-enable-kvm']],
    ['-machine', new Machine('q35'), ['-machine', 'q35']],
    ['-machine with properties', new Machine('q35', [['hpet', 'off']]), ['-machine', 'q35,hpet=off']],
    [
      'confidential -machine',
      new MachineProperties([
        ['confidential-guest-support', 'sev0'],
        ['memory-backend', 'ram1'],
      ]),
      ['-machine', 'confidential-guest-support=sev0,memory-backend=ram1'],
    ],
    ['-cpu', new Cpu('EPYC'), ['-cpu', 'EPYC']],
    ['-smp', new Smp(4, 64), ['-smp', '4,maxcpus=64']],
    ['-m', new Memory('2048M', 5, '30G'), ['-m', '2048M,slots=5,maxmem=30G']],
    [
      'pflash code',
      new PflashDrive({ file: '/usr/share/OVMF/OVMF_CODE.fd', unit: 0, readonly: 'on' }),
      ['-drive', 'if=pflash,format=raw,unit=0,file=/usr/share/OVMF/OVMF_CODE.fd,readonly=on'],
    ],
    ['pflash vars', new PflashDrive({ file: '/run/x/OVMF_VARS.fd', unit: 1 }), ['-drive', 'if=pflash,format=raw,unit=1,file=/run/x/OVMF_VARS.fd']],
    [
      'disk drive',
      new Drive([
        ['file', '/d.qcow2'],
        ['if', 'none'],
        ['id', 'disk0'],
        ['format', 'qcow2'],
      ]),
      ['-drive', 'file=/d.qcow2,if=none,id=disk0,format=qcow2'],
    ],
    ['user netdev', new UserNetdev('vmnic-1', [{ hostPort: 6100, guestPort: 7002 }]), ['-netdev', 'user,id=vmnic-1,hostfwd=tcp::6100-:7002']],
    [
      'user netdev bound to an address, two forwards',
      new UserNetdev('n', [
        { hostPort: 6100, guestPort: 7002, hostAddress: '127.0.0.1' },
        { hostPort: 2222, guestPort: 22 },
      ]),
      ['-netdev', 'user,id=n,hostfwd=tcp:127.0.0.1:6100-:7002,hostfwd=tcp::2222-:22'],
    ],
    [
      'virtio-net-pci',
      new VirtioNetPci({ netdev: 'vmnic-1', disableLegacy: 'on', iommuPlatform: 'true', addr: '0x2', romfile: '' }),
      ['-device', 'virtio-net-pci,disable-legacy=on,iommu_platform=true,netdev=vmnic-1,addr=0x2,romfile='],
    ],
    [
      'generic device',
      new Device(
        'scsi-hd',
        [
          ['drive', 'disk0'],
          ['bus', 'scsi0.0'],
        ],
        QemuSection.Storage,
      ),
      ['-device', 'scsi-hd,drive=disk0,bus=scsi0.0'],
    ],
    [
      'object',
      new QemuObject('memory-backend-memfd', 'ram1', [
        ['size', '2048M'],
        ['share', true],
        ['prealloc', false],
      ]),
      ['-object', 'memory-backend-memfd,id=ram1,size=2048M,share=true,prealloc=false'],
    ],
    [
      'JSON object',
      new JsonQemuObject({ 'qom-type': 'tdx-guest', id: 'tdx0', 'quote-generation-socket': { type: 'vsock', cid: '2', port: '4050' } }),
      ['-object', '{"qom-type":"tdx-guest","id":"tdx0","quote-generation-socket":{"type":"vsock","cid":"2","port":"4050"}}'],
    ],
    ['-kernel', new Kernel('img/bzImage'), ['-kernel', 'img/bzImage']],
    ['-append keeps spaces in one word', new KernelCommandLine('quiet console=null'), ['-append', 'quiet console=null']],
    ['-initrd', new Initrd('img/rootfs.cpio.gz'), ['-initrd', 'img/rootfs.cpio.gz']],
    ['-bios', new Bios('/usr/share/ovmf/OVMF.fd'), ['-bios', '/usr/share/ovmf/OVMF.fd']],
    ['-nographic', new NoGraphic(), ['-nographic']],
    ['-nodefaults', new NoDefaults(), ['-nodefaults']],
    ['-monitor', new Monitor('pty'), ['-monitor', 'pty']],
    ['-fsdev', new LocalFsdev('env_fs', '/run/x/env'), ['-fsdev', 'local,id=env_fs,path=/run/x/env,security_model=mapped']],
    ['virtio-9p-pci', new Virtio9pDevice('env_fs', 'env_share'), ['-device', 'virtio-9p-pci,fsdev=env_fs,mount_tag=env_share']],
    ['-name', new GuestName('cvm-1'), ['-name', 'cvm-1']],
  ])('%s', (_label, element, expected) => {
    expect(element.render()).toEqual(expected);
  });

  it('doubles commas inside option values, as QEMU requires', () => {
    expect(new LocalFsdev('env_fs', '/tmp/a,b').render()).toEqual(['-fsdev', 'local,id=env_fs,path=/tmp/a,,b,security_model=mapped']);
    expect(new LocalFsdev('env_fs', '/e', 'mapped', true).render()).toEqual(['-fsdev', 'local,id=env_fs,path=/e,security_model=mapped,readonly=on']);
    expect(new PflashDrive({ file: '/x,y.fd', unit: 1 }).render()[1]).toBe('if=pflash,format=raw,unit=1,file=/x,,y.fd');
  });
});

describe('QEMU elements validate themselves', () => {
  it.each([
    ['smp count above maxcpus', () => new Smp(8, 4), /maxcpus 4 must be an integer ≥ the CPU count 8/],
    ['smp count zero', () => new Smp(0, 4), /CPU count 0/],
    ['memory size', () => new Memory('lots', 5, '30G'), /size "lots"/],
    ['memory slots', () => new Memory('1G', -1, '30G'), /slots -1/],
    ['netdev id', () => new UserNetdev('1bad', []), /id "1bad" must start with a letter/],
    ['hostfwd port', () => new UserNetdev('n', [{ hostPort: 70000, guestPort: 7002 }]), /host port 70000/],
    ['empty cpu', () => new Cpu(' '), /CPU model must not be empty/],
    ['empty kernel', () => new Kernel(''), /kernel file must not be empty/],
    ['cmdline with newline', () => new KernelCommandLine('a\nb'), /line breaks/],
    ['object id', () => new QemuObject('sev-snp-guest', 'sev 0'), /id "sev 0"/],
    ['9p mount tag', () => new Virtio9pDevice('env_fs', 'env share'), /mount_tag/],
  ])('%s', (_label, build, message) => {
    expect(build).toThrow(message);
  });
});

describe('QemuCommand', () => {
  it('renders sections in the fixed order whatever the insertion order, keeping order within a section', () => {
    const cmd = new QemuCommand('qemu-system-x86_64');
    cmd.add(new Monitor('pty'), new Kernel('k'), new Cpu('EPYC'), new EnableKvm(), new Machine('q35'));
    cmd.add(new LocalFsdev('env_fs', '/e'), new Virtio9pDevice('env_fs', 'env_share'), new Initrd('i'));
    expect(cmd.argv()).toEqual([
      'qemu-system-x86_64',
      '-enable-kvm',
      '-machine',
      'q35',
      '-cpu',
      'EPYC',
      '-kernel',
      'k',
      '-initrd',
      'i',
      '-monitor',
      'pty',
      '-fsdev',
      'local,id=env_fs,path=/e,security_model=mapped',
      '-device',
      'virtio-9p-pci,fsdev=env_fs,mount_tag=env_share',
    ]);
  });

  it('prefixes sudo -n (never prompts) when asked', () => {
    expect(new QemuCommand('/usr/bin/qemu-system-x86_64', true).add(new NoGraphic()).argv()).toEqual([
      'sudo',
      '-n',
      '/usr/bin/qemu-system-x86_64',
      '-nographic',
    ]);
  });
});
