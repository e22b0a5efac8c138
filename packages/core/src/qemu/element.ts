import { ManagerError } from '../errors.js';

/**
 * Where an element's arguments go on the QEMU command line. The command is
 * assembled in this order (the Go manager's order: apps/manager/test/golden-argv.ts); elements of
 * one section keep the order they were added in.
 */
export const QemuSection = {
  Accelerator: 10,
  Machine: 20,
  Cpu: 30,
  Smp: 40,
  Memory: 50,
  Firmware: 60,
  Network: 70,
  Storage: 80,
  /** Passed-through host devices (PCI devices…): after the disks, before the TEE objects. */
  Devices: 85,
  Confidential: 90,
  Boot: 100,
  Display: 110,
  Monitor: 120,
  SharedFilesystems: 130,
  Supervision: 140,
} as const;
export type QemuSection = (typeof QemuSection)[keyof typeof QemuSection];

/** One piece of a QEMU command line: validated when built, rendered as argv words. */
export interface QemuElement {
  readonly section: QemuSection;
  render(): string[];
}

export class QemuElementError extends ManagerError {
  constructor(element: string, message: string) {
    super('QEMU_ARGUMENT_INVALID', `${element}: ${message}`);
    this.name = 'QemuElementError';
  }
}
