import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { HOST, VM_DEVICE } from '@cocos-manager/core';
import { Manager } from '@cocos-manager/core/internal';
import { inertBackendPlugin } from '@cocos-manager/testing';
import { deviceGpuPlugin, GpuDevice, gpuProblem, readPciDevice } from '../src/index.js';
import { recordedHost } from './gpu-manager.js';

describe('GPU host probe on recorded /sys trees', () => {
  it('an NVIDIA 3D controller and an NVIDIA VGA controller bound to vfio-pci pass', async () => {
    const host = recordedHost('two-gpus-on-vfio');
    expect(await gpuProblem(host, '0000:41:00.0')).toBeNull();
    expect(await gpuProblem(host, '0000:81:00.0')).toBeNull();
    expect(await readPciDevice(host, '0000:41:00.0')).toEqual({
      bdf: '0000:41:00.0',
      vendor: '0x10de',
      pciClass: '0x030200',
      driver: 'vfio-pci',
      onVfioPci: true,
    });
  });

  it('an NVIDIA GPU on the nvidia driver is refused, naming the driver', async () => {
    expect(await gpuProblem(recordedHost('gpu-on-nvidia-driver'), '0000:41:00.0')).toBe(
      '0000:41:00.0 is not bound to vfio-pci (found vendor 0x10de, class 0x030200, driver nvidia); bind it to vfio-pci first',
    );
  });

  it('a GPU bound to no driver is refused', async () => {
    expect(await gpuProblem(recordedHost('gpu-unbound'), '0000:41:00.0')).toBe(
      '0000:41:00.0 is not bound to vfio-pci (found vendor 0x10de, class 0x030200, driver none); bind it to vfio-pci first',
    );
  });

  it('a non-NVIDIA device on vfio-pci is refused, naming vendor and class', async () => {
    expect(await gpuProblem(recordedHost('nic-on-vfio'), '0000:41:00.0')).toBe(
      '0000:41:00.0 is not an NVIDIA GPU (found vendor 0x8086, class 0x020000, driver vfio-pci; expected vendor 0x10de, class 0x0300xx or 0x0302xx)',
    );
  });

  it('an address with no device is refused', async () => {
    expect(await gpuProblem(recordedHost('two-gpus-on-vfio'), '0000:99:00.0')).toBe(
      '0000:99:00.0 is not a PCI device on this host (no /sys/bus/pci/devices/0000:99:00.0)',
    );
  });
});

describe('the plugin in a manager', () => {
  it("provides one VM_DEVICE, a GpuDevice with the kernel's HOST injected", () => {
    const manager = Manager.create({
      plugins: [inertBackendPlugin, deviceGpuPlugin],
      env: { MANAGER_QEMU_GPU_BDF: '0000:41:00.0' },
      logger: pino({ level: 'silent' }),
    });
    const devices = manager.container.resolveAll(VM_DEVICE);
    expect(devices).toHaveLength(1);
    expect(devices[0]).toBeInstanceOf(GpuDevice);
    expect((devices[0] as unknown as { host: unknown }).host).toBe(manager.container.resolve(HOST));
    expect((devices[0] as InstanceType<typeof GpuDevice>).pool.bdfs).toEqual(['0000:41:00.0']);
  });
});
