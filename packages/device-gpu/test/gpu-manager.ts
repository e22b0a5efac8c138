import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { HOST, HostEnvironment, PROCESS_LAUNCHER } from '@cocos-manager/core';
import { Manager, PORT_ALLOCATOR, PortAllocator } from '@cocos-manager/core/internal';
import { createInertBackendPlugin, FakeLauncher } from '@cocos-manager/testing';
import { deviceGpuPlugin } from '../src/index.js';

/** A recorded host: `test/fixtures/<name>` holds its /sys tree. */
export function recordedHost(name: string): HostEnvironment {
  return new HostEnvironment(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', name));
}

/** Run and state directories and stand-in boot files for one test. */
export function gpuTestDirs() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cocos-gpu-'));
  const kernel = path.join(dir, 'bzImage');
  const rootfs = path.join(dir, 'rootfs.cpio.gz');
  writeFileSync(kernel, 'kernel');
  writeFileSync(rootfs, 'rootfs');
  return {
    dir,
    state: path.join(dir, 'state'),
    env: {
      MANAGER_RUN_DIR: path.join(dir, 'run'),
      MANAGER_STATE_DIR: path.join(dir, 'state'),
      MANAGER_QEMU_DISK_IMG_KERNEL_FILE: kernel,
      MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: rootfs,
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A started manager (inert backend, the GPU plugin, no transports) whose
 * QEMUs are FakeLauncher's and whose host is a recorded /sys tree.
 */
export async function startGpuManager(
  dirs: ReturnType<typeof gpuTestDirs>,
  launcher: FakeLauncher,
  env: Record<string, string>,
  host = recordedHost('two-gpus-on-vfio'),
) {
  const manager = Manager.create({
    plugins: [createInertBackendPlugin(), deviceGpuPlugin],
    env: {
      COCOS_JAEGER_TRACE_RATIO: '0',
      MANAGER_QEMU_ENABLE_KVM: 'false',
      MANAGER_VM_START_TIMEOUT: '2s',
      MANAGER_VM_POWERDOWN_TIMEOUT: '2s',
      MANAGER_VM_STOP_TIMEOUT: '2s',
      ...dirs.env,
      ...env,
    },
    overrides: [
      { token: PROCESS_LAUNCHER, useValue: launcher },
      { token: PORT_ALLOCATOR, useValue: new PortAllocator({ first: 7100, last: 7109 }, async () => true) },
      { token: HOST, useValue: host },
    ],
    logger: pino({ level: 'silent' }),
  });
  await manager.start();
  return manager;
}
