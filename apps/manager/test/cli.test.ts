import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { boot, head, network, pflash, RUN, tail, VM } from './golden-argv.js';
import { MAIN } from './harness.js';

function run(args: string[], env: Record<string, string> = {}) {
  return execa('node', [MAIN, ...args], { env: { PATH: process.env['PATH'] ?? '', MANAGER_RUN_DIR: RUN, ...env }, extendEnv: false, reject: false });
}

describe('cocos-manager qemu-args', () => {
  it('prints, for the default configuration, the argv of the Go manager element by element', async () => {
    const result = await run(['qemu-args']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([...head, ...pflash, ...network, ...boot, ...tail]);
  });

  it('shows overrides of MANAGER_QEMU_* variables', async () => {
    const result = await run(['qemu-args'], {
      MANAGER_QEMU_ENABLE_KVM: 'false',
      MANAGER_QEMU_USE_SUDO: 'true',
      MANAGER_QEMU_BIN_PATH: '/opt/qemu/bin/qemu-system-x86_64',
      MANAGER_QEMU_MACHINE: 'pc',
      MANAGER_QEMU_CPU: 'host',
      MANAGER_QEMU_SMP_COUNT: '2',
      MANAGER_QEMU_SMP_MAXCPUS: '8',
      MANAGER_QEMU_MEMORY_SIZE: '4G',
      MANAGER_QEMU_MEMORY_SLOTS: '2',
      MANAGER_QEMU_MAX_MEMORY: '16G',
      MANAGER_QEMU_NETDEV_ID: 'nic',
      MANAGER_QEMU_HOST_FWD_RANGE: '7100-7200',
      MANAGER_QEMU_GUEST_FWD_AGENT: '7777',
      MANAGER_QEMU_VIRTIO_NET_PCI_DISABLE_LEGACY: 'off',
      MANAGER_QEMU_VIRTIO_NET_PCI_IOMMU_PLATFORM: 'false',
      MANAGER_QEMU_VIRTIO_NET_PCI_ADDR: '0x5',
      MANAGER_QEMU_VIRTIO_NET_PCI_ROMFILE: '/roms/efi.rom',
      MANAGER_QEMU_OVMF_CODE_FILE: '/fw/CODE.fd',
      MANAGER_QEMU_DISK_IMG_KERNEL_FILE: '/img/k',
      MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: '/img/r',
      MANAGER_QEMU_KERNEL_CMDLINE: 'console=ttyS0 debug',
      MANAGER_QEMU_NO_GRAPHIC: 'false',
      MANAGER_QEMU_MONITOR: 'none',
      MANAGER_QEMU_ENV_MOUNT: '/srv/cvm-env',
    });
    expect(result.exitCode).toBe(0);
    const argv = JSON.parse(result.stdout) as string[];
    expect(argv.slice(0, 13)).toEqual([
      'sudo',
      '-n',
      '/opt/qemu/bin/qemu-system-x86_64',
      '-machine',
      'pc',
      '-cpu',
      'host',
      '-smp',
      '2,maxcpus=8',
      '-m',
      '4G,slots=2,maxmem=16G',
      '-drive',
      'if=pflash,format=raw,unit=0,file=/fw/CODE.fd,readonly=on',
    ]);
    expect(argv).not.toContain('-enable-kvm');
    expect(argv).not.toContain('-nographic');
    expect(argv).toContain(`user,id=nic-${VM},hostfwd=tcp::7100-:7777`);
    expect(argv).toContain(`virtio-net-pci,disable-legacy=off,iommu_platform=false,netdev=nic-${VM},addr=0x5,romfile=/roms/efi.rom`);
    expect(argv.join(' ')).toContain('-kernel /img/k -append console=ttyS0 debug -initrd /img/r -monitor none');
    expect(argv).toContain(`local,id=env_fs,path=/srv/cvm-env/${VM},security_model=mapped,readonly=on`);
    expect(argv).toContain(`local,id=cert_fs,path=${RUN}/${VM}/certs,security_model=mapped,readonly=on`);
  });

  it('starts nothing and needs no QEMU, firmware or images', async () => {
    const result = await run(['qemu-args'], { MANAGER_QEMU_BIN_PATH: '/does/not/exist', MANAGER_QEMU_OVMF_CODE_FILE: '/nope' });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)[0]).toBe('/does/not/exist');
  });
});

describe('start-up configuration errors', () => {
  it.each([
    ['MANAGER_GRPC_PORT', 'abc', 'cocos-manager: MANAGER_GRPC_PORT="abc": expected a TCP port number between 0 and 65535 (0 = any free port)'],
    [
      'MANAGER_QEMU_HOST_FWD_RANGE',
      '6200-6100',
      'cocos-manager: MANAGER_QEMU_HOST_FWD_RANGE="6200-6100": expected a port range FIRST-LAST such as 6100-6200, with 1 ≤ FIRST ≤ LAST ≤ 65535',
    ],
    [
      'MANAGER_QEMU_MEMORY_SIZE',
      'lots',
      'cocos-manager: MANAGER_QEMU_MEMORY_SIZE="lots": expected a memory size such as 2048M, 4G or 30G (a number with an optional K, M, G or T suffix)',
    ],
    ['MANAGER_LOG_LEVEL', 'chatty', 'cocos-manager: MANAGER_LOG_LEVEL="chatty": expected one of trace, debug, info, warn, error, fatal, silent'],
  ])('%s=%s: one line, non-zero exit', async (name, value, line) => {
    const result = await run([], { [name]: value });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(line);
    expect(result.stdout).toBe('');
  });

  it('a backend that cannot run stops start-up with one line', async () => {
    const result = await run([], { MANAGER_QEMU_BIN_PATH: '/nope/qemu', MANAGER_QEMU_ENABLE_KVM: 'false', MANAGER_GRPC_PORT: '0' });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^cocos-manager: the plain backend cannot run on this host: MANAGER_QEMU_BIN_PATH="\/nope\/qemu" does not run/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a missing kernel stops start-up with one line', async () => {
    const result = await run([], { MANAGER_QEMU_ENABLE_KVM: 'false', MANAGER_GRPC_PORT: '0', MANAGER_QEMU_DISK_IMG_KERNEL_FILE: '/nope/bzImage' });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('cocos-manager: MANAGER_QEMU_DISK_IMG_KERNEL_FILE="/nope/bzImage": expected a readable file (RAM boot needs it)');
  });
});

describe('cocos-manager config', () => {
  it('prints the reference of every variable of this build', async () => {
    const result = await run(['config', '--reference']);
    expect(result.exitCode).toBe(0);
    for (const env of ['MANAGER_QEMU_HOST_FWD_RANGE', 'MANAGER_QEMU_OVMF_VARS_FILE', 'MANAGER_GRPC_PORT', 'MANAGER_RUN_DIR'])
      expect(result.stdout).toContain(`\`${env}\``);
  });
});
