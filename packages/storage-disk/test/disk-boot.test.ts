import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { coreSettings, emptyCreateVmRequest, QemuCommand, VmContext } from '@cocos-manager/core';
import { loadManagerConfig } from '@cocos-manager/core/internal';
import { DiskBootStrategy, diskSettings, GIB, imageInfo, perVmDiskSize } from '../src/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'cm-disk-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = (env: Record<string, string> = {}) =>
  loadManagerConfig(
    [
      { owner: '@cocos-manager/core', slice: coreSettings },
      { owner: '@cocos-manager/storage-disk', slice: diskSettings },
    ],
    { MANAGER_QEMU_ENABLE_DISK: 'true', ...env },
  );
const vm = (id: string) => {
  const dir = path.join(root, 'run', id);
  mkdirSync(dir, { recursive: true });
  return new VmContext(id, dir, 6100, emptyCreateVmRequest(), 'quiet');
};
async function reference(name: string, size: string, format = 'qcow2'): Promise<string> {
  const file = path.join(root, name);
  await execa('qemu-img', ['create', '-q', '-f', format, file, size]);
  return file;
}

describe('per-VM disk size', () => {
  it.each([
    [1.5 * GIB, 3 * GIB],
    [GIB, 2 * GIB],
    [64 * 1024 ** 2, 2 * GIB],
    [8 * GIB, 9 * GIB],
    [8 * GIB + 1, 10 * GIB],
  ])('reference %d bytes → %d bytes', (ref, expected) => {
    expect(perVmDiskSize(ref)).toBe(expected);
  });
});

describe('disk provisioning with real qemu-img', () => {
  it.each(['overlay', 'copy'])('%s: a 1.5 GiB reference gives a 3 GiB per-VM disk, 0600, removed by cleanup', async (mode) => {
    const ref = await reference(`ref-${mode}.qcow2`, '1536M');
    const strategy = new DiskBootStrategy(config({ MANAGER_QEMU_SRC_DISK_FILE: ref, MANAGER_QEMU_DISK_PROVISIONING: mode }));
    await strategy.validate();
    const ctx = vm(`0000000${mode === 'overlay' ? '1' : '2'}-0000-4000-8000-000000000000`);
    await strategy.prepare(ctx);
    const disk = strategy.diskPath(ctx);
    const info = await imageInfo(disk);
    expect(info.virtualSize).toBe(3 * GIB);
    expect(info.format).toBe('qcow2');
    expect(info.backingFile).toBe(mode === 'overlay' ? ref : null);
    expect(statSync(disk).mode & 0o777).toBe(0o600);
    await strategy.cleanup(ctx);
    expect(existsSync(disk)).toBe(false);
  });

  it('MANAGER_QEMU_DST_DISK_FILE as an {id} template or a directory', () => {
    const ctx = new VmContext('abc', '/run/x/abc', 6100, emptyCreateVmRequest(), '');
    expect(new DiskBootStrategy(config({ MANAGER_QEMU_DST_DISK_FILE: '/var/tmp/cvm-{id}.qcow2' })).diskPath(ctx)).toBe('/var/tmp/cvm-abc.qcow2');
    expect(new DiskBootStrategy(config({ MANAGER_QEMU_DST_DISK_FILE: '/srv/disks' })).diskPath(ctx)).toBe('/srv/disks/cvmDisk-abc.qcow2');
    expect(new DiskBootStrategy(config()).diskPath(ctx)).toBe('/run/x/abc/disk.qcow2');
  });

  it('validates the reference at start: missing, not an image of the configured format, overlay of raw', async () => {
    await expect(new DiskBootStrategy(config({ MANAGER_QEMU_SRC_DISK_FILE: path.join(root, 'none.qcow2') })).validate()).rejects.toThrow(
      /^MANAGER_QEMU_SRC_DISK_FILE=".*none.qcow2": expected a disk image qemu-img can read \(qemu-img info failed: .*No such file/,
    );
    const junk = path.join(root, 'junk.txt');
    writeFileSync(junk, 'not a disk');
    await expect(new DiskBootStrategy(config({ MANAGER_QEMU_SRC_DISK_FILE: junk })).validate()).rejects.toThrow(
      /expected a qcow2 image \(MANAGER_QEMU_DISK_FORMAT\), qemu-img says it is raw/,
    );
    const raw = await reference('ref.raw', '64M', 'raw');
    await expect(new DiskBootStrategy(config({ MANAGER_QEMU_SRC_DISK_FILE: raw, MANAGER_QEMU_DISK_FORMAT: 'raw' })).validate()).rejects.toThrow(
      /overlay provisioning makes qcow2 disks/,
    );
    await expect(
      new DiskBootStrategy(config({ MANAGER_QEMU_SRC_DISK_FILE: raw, MANAGER_QEMU_DISK_FORMAT: 'raw', MANAGER_QEMU_DISK_PROVISIONING: 'copy' })).validate(),
    ).resolves.toBeUndefined();
  });
});

describe('disk QEMU arguments (the argv of the Go manager: apps/manager/test/golden-argv.ts)', () => {
  const ctx = new VmContext('abc', '/run/x/abc', 6100, emptyCreateVmRequest(), '');
  const argsOf = (env: Record<string, string> = {}) => {
    const command = new QemuCommand('qemu');
    new DiskBootStrategy(config(env)).contribute(command, ctx);
    return command.args();
  };
  it('default', () => {
    expect(argsOf()).toEqual([
      '-drive',
      'file=/run/x/abc/disk.qcow2,if=none,id=disk0,format=qcow2',
      '-device',
      'virtio-scsi-pci,id=scsi0,disable-legacy=on,iommu_platform=true',
      '-device',
      'scsi-hd,drive=disk0,bus=scsi0.0',
    ]);
  });
  it('overridden', () => {
    expect(
      argsOf({ MANAGER_QEMU_DISK_ID: 'root', MANAGER_QEMU_DISK_SCSI_ID: 'ctl', MANAGER_QEMU_DISK_FORMAT: 'raw', MANAGER_QEMU_DST_DISK_FILE: '/d/{id}.img' }),
    ).toEqual([
      '-drive',
      'file=/d/abc.img,if=none,id=root,format=raw',
      '-device',
      'virtio-scsi-pci,id=ctl,disable-legacy=on,iommu_platform=true',
      '-device',
      'scsi-hd,drive=root,bus=ctl.0',
    ]);
  });
});
