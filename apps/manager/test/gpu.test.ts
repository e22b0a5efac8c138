import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { boot, head, network, pflash, RUN, tail, VM } from './golden-argv.js';
import { MAIN } from './harness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-gpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  return execa('node', [MAIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', MANAGER_RUN_DIR: RUN, MANAGER_STATE_DIR: path.join(dir, 'state'), ...env },
    extendEnv: false,
    reject: false,
  });
}

const GPU = { MANAGER_QEMU_GPU_BDF: '0000:41:00.0,0000:c1:00.0' };
/** The Go manager's three GPU elements, for the first configured GPU and the default settings. */
const gpu = [
  '-device',
  'pcie-root-port,id=pci.1,bus=pcie.0',
  '-device',
  'vfio-pci,host=0000:41:00.0,bus=pci.1',
  '-fw_cfg',
  'name=opt/ovmf/X-PciMmio64Mb,string=262144',
];

describe('golden QEMU argv with one GPU (qemu-args works on any host)', () => {
  it('plain: after the network (and any disk), before boot', async () => {
    const result = await run(['qemu-args'], GPU);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([...head, ...pflash, ...network, ...gpu, ...boot, ...tail]);
  });

  it('SEV-SNP: before the SEV-SNP objects', async () => {
    const result = await run(['qemu-args'], { ...GPU, MANAGER_QEMU_ENABLE_SEV_SNP: 'true' });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      ...head,
      ...network,
      ...gpu,
      '-machine',
      `confidential-guest-support=sev0-${VM},memory-backend=ram1,igvm-cfg=igvm0`,
      '-object',
      'memory-backend-memfd,id=ram1,size=2048M,share=true,prealloc=false',
      '-object',
      `sev-snp-guest,id=sev0-${VM},cbitpos=51,reduced-phys-bits=1`,
      '-object',
      'igvm-cfg,id=igvm0,file=/root/coconut-qemu.igvm',
      ...boot,
      ...tail,
    ]);
  });

  it('TDX: before the TDX objects, with the settings of the root port, bus and MMIO window', async () => {
    const result = await run(['qemu-args'], {
      ...GPU,
      MANAGER_QEMU_ENABLE_TDX: 'true',
      MANAGER_QEMU_CPU: 'host',
      MANAGER_QEMU_GPU_PCIE_ROOT_PORT: 'rp0',
      MANAGER_QEMU_GPU_PCIE_BUS: 'pcie.1',
      MANAGER_QEMU_GPU_FW_CFG_MMIO_MB: '131072',
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      ...head.map((a) => (a === 'EPYC' ? 'host' : a)),
      ...network,
      '-device',
      'pcie-root-port,id=rp0,bus=pcie.1',
      '-device',
      'vfio-pci,host=0000:41:00.0,bus=rp0',
      '-fw_cfg',
      'name=opt/ovmf/X-PciMmio64Mb,string=131072',
      '-object',
      `{"qom-type":"tdx-guest","id":"tdx0-${VM}","quote-generation-socket":{"type":"vsock","cid":"2","port":"4050"}}`,
      '-machine',
      `confidential-guest-support=tdx0-${VM},memory-backend=ram1,hpet=off`,
      '-object',
      'memory-backend-memfd,id=ram1,size=2048M,share=true,prealloc=false',
      '-bios',
      '/usr/share/ovmf/OVMF.fd',
      '-nodefaults',
      ...boot,
      ...tail,
    ]);
  });

  it('SEV-SNP + disk: after the disk elements, before the TEE ones', async () => {
    const result = await run(['qemu-args'], { ...GPU, MANAGER_QEMU_ENABLE_SEV_SNP: 'true', MANAGER_QEMU_ENABLE_DISK: 'true' });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      ...head,
      ...network,
      '-drive',
      `file=${RUN}/${VM}/disk.qcow2,if=none,id=disk0,format=qcow2`,
      '-device',
      'virtio-scsi-pci,id=scsi0,disable-legacy=on,iommu_platform=true',
      '-device',
      'scsi-hd,drive=disk0,bus=scsi0.0',
      ...gpu,
      '-machine',
      `confidential-guest-support=sev0-${VM},memory-backend=ram1,igvm-cfg=igvm0`,
      '-object',
      'memory-backend-memfd,id=ram1,size=2048M,share=true,prealloc=false',
      '-object',
      `sev-snp-guest,id=sev0-${VM},cbitpos=51,reduced-phys-bits=1`,
      '-object',
      'igvm-cfg,id=igvm0,file=/root/coconut-qemu.igvm',
      ...tail,
    ]);
  });

  it('no GPU configured: none of the three elements', async () => {
    const result = await run(['qemu-args']);
    expect(JSON.parse(result.stdout)).toEqual([...head, ...pflash, ...network, ...boot, ...tail]);
  });

  it('a malformed MANAGER_QEMU_GPU_BDF is a one-line error', async () => {
    const result = await run(['qemu-args'], { MANAGER_QEMU_GPU_BDF: '0000:41:00.0,gpu1' });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      'cocos-manager: MANAGER_QEMU_GPU_BDF="0000:41:00.0,gpu1": expected a comma-separated list of distinct PCI addresses DDDD:BB:DD.F such as 0000:41:00.0 (empty for no GPU)',
    );
  });
});

/** A PCI device of this host not bound to vfio-pci, and what sysfs says about it. */
function hostDeviceNotOnVfio(): { bdf: string; found: string } | null {
  const devices = existsSync('/sys/bus/pci/devices') ? readdirSync('/sys/bus/pci/devices').sort() : [];
  for (const bdf of devices) {
    if (existsSync(`/sys/bus/pci/drivers/vfio-pci/${bdf}`)) continue;
    const read = (f: string) => readFileSync(`/sys/bus/pci/devices/${bdf}/${f}`, 'utf8').trim().toLowerCase();
    const driver = /^DRIVER=(.+)$/m.exec(readFileSync(`/sys/bus/pci/devices/${bdf}/uevent`, 'utf8'))?.[1] ?? 'none';
    return { bdf, found: `vendor ${read('vendor')}, class ${read('class')}, driver ${driver}` };
  }
  return null;
}

describe('start-up checks of the real binary', () => {
  const serve = (bdf: string) => run([], { MANAGER_GRPC_PORT: '0', MANAGER_HTTP_PORT: '0', MANAGER_QEMU_ENABLE_KVM: 'false', MANAGER_QEMU_GPU_BDF: bdf });

  it('a BDF that is not bound to vfio-pci stops start-up with one line naming it and what was found', async () => {
    const device = hostDeviceNotOnVfio();
    // Every host the tests run on has PCI devices, none of them on vfio-pci (a GPU host would pass an absent one).
    const bdf = device?.bdf ?? '0000:ff:1f.7';
    const result = await serve(bdf);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      device
        ? `cocos-manager: MANAGER_QEMU_GPU_BDF: ${bdf} is not bound to vfio-pci (found ${device.found}); bind it to vfio-pci first`
        : `cocos-manager: MANAGER_QEMU_GPU_BDF: ${bdf} is not a PCI device on this host (no /sys/bus/pci/devices/${bdf})`,
    );
  });

  it('an absent BDF stops start-up with one line', async () => {
    const result = await serve('0000:ff:1f.7');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('cocos-manager: MANAGER_QEMU_GPU_BDF: 0000:ff:1f.7 is not a PCI device on this host (no /sys/bus/pci/devices/0000:ff:1f.7)');
  });
});
