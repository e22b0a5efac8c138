import { ManagerError } from '@cocos-manager/core';
import { execa } from 'execa';

export interface ImageInfo {
  readonly format: string;
  readonly virtualSize: number;
  readonly backingFile: string | null;
}

export class QemuImgError extends ManagerError {
  constructor(message: string) {
    super('DISK_IMAGE_FAILED', message);
  }
}

async function qemuImg(args: string[]): Promise<string> {
  const result = await execa('qemu-img', args, { reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0) {
    const said = `${result.stderr || result.stdout || result.originalMessage || result.shortMessage}`.trim().split('\n').pop();
    throw new QemuImgError(`qemu-img ${args[0]} failed: ${said}`);
  }
  return result.stdout;
}

/** `qemu-img info --output=json`: format, virtual size, backing file. */
export async function imageInfo(file: string): Promise<ImageInfo> {
  // --force-share: the image may be open in a running QEMU; reading its header is safe.
  const info = JSON.parse(await qemuImg(['info', '--force-share', '--output=json', file])) as {
    format: string;
    'virtual-size': number;
    'backing-filename'?: string;
  };
  return { format: info.format, virtualSize: info['virtual-size'], backingFile: info['backing-filename'] ?? null };
}

/** A qcow2 overlay on a read-only reference: constant time, whatever the reference's size. */
export async function createOverlay(reference: string, referenceFormat: string, destination: string, size: number): Promise<void> {
  await qemuImg(['create', '-q', '-f', 'qcow2', '-F', referenceFormat, '-b', reference, destination, String(size)]);
}

/** An independent full copy, then grown: the Go manager's way (time grows with the image). */
export async function createCopy(reference: string, destination: string, format: string, size: number): Promise<void> {
  await qemuImg(['convert', '-O', format, reference, destination]);
  await qemuImg(['resize', '-q', '-f', format, destination, String(size)]);
}
