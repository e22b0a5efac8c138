import type { HostFiles } from '@cocos-manager/core';

/** NVIDIA's PCI vendor id. */
export const NVIDIA_VENDOR = '0x10de';
/** PCI classes of a GPU: 0x0300xx VGA-compatible controller, 0x0302xx 3D controller (H100…). */
const GPU_CLASS = /^0x030[02][0-9a-f]{2}$/;
export const VFIO_PCI_DIR = '/sys/bus/pci/drivers/vfio-pci';

/** What sysfs says about one PCI device. */
export interface PciDevice {
  readonly bdf: string;
  readonly vendor: string;
  readonly pciClass: string;
  /** The driver bound to it (uevent's DRIVER=), or null when none is. */
  readonly driver: string | null;
  /** Present under /sys/bus/pci/drivers/vfio-pci, as the Go manager looks for it. */
  readonly onVfioPci: boolean;
}

/** Reads one device from sysfs; null when the host has no PCI device at `bdf`. */
export async function readPciDevice(host: HostFiles, bdf: string): Promise<PciDevice | null> {
  const dir = `/sys/bus/pci/devices/${bdf}`;
  const vendor = (await host.readText(`${dir}/vendor`))?.trim();
  if (vendor === undefined) return null;
  const pciClass = (await host.readText(`${dir}/class`))?.trim() ?? 'unknown';
  const uevent = (await host.readText(`${dir}/uevent`)) ?? '';
  const driver = /^DRIVER=(.+)$/m.exec(uevent)?.[1]?.trim() ?? null;
  // drivers/vfio-pci/<bdf> links to the device's directory: its vendor file reads through it.
  const onVfioPci = (await host.readText(`${VFIO_PCI_DIR}/${bdf}/vendor`)) !== undefined;
  return { bdf, vendor: vendor.toLowerCase(), pciClass: pciClass.toLowerCase(), driver, onVfioPci };
}

/**
 * Why `bdf` cannot be passed through (the Go manager's test: an NVIDIA GPU
 * bound to vfio-pci), naming what was found; null when it can.
 */
export async function gpuProblem(host: HostFiles, bdf: string): Promise<string | null> {
  const device = await readPciDevice(host, bdf);
  if (!device) return `${bdf} is not a PCI device on this host (no /sys/bus/pci/devices/${bdf})`;
  const found = `vendor ${device.vendor}, class ${device.pciClass}, driver ${device.driver ?? 'none'}`;
  if (!device.onVfioPci) return `${bdf} is not bound to vfio-pci (found ${found}); bind it to vfio-pci first`;
  if (device.vendor !== NVIDIA_VENDOR || !GPU_CLASS.test(device.pciClass)) {
    return `${bdf} is not an NVIDIA GPU (found ${found}; expected vendor ${NVIDIA_VENDOR}, class 0x0300xx or 0x0302xx)`;
  }
  return null;
}
