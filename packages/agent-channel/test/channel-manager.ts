import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { PROCESS_LAUNCHER, type ManagerPlugin } from '@cocos-manager/core';
import { Manager, PORT_ALLOCATOR, PortAllocator } from '@cocos-manager/core/internal';
import { createInertBackendPlugin, FakeLauncher } from '@cocos-manager/testing';
import { agentChannelPlugin } from '../src/index.js';

/** Run and state directories and stand-in boot files for one test. */
export function channelTestDirs() {
  // Short: the VMs' socket paths must fit a sockaddr_un.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cac-'));
  const kernel = path.join(dir, 'bzImage');
  const rootfs = path.join(dir, 'rootfs.cpio.gz');
  writeFileSync(kernel, 'kernel');
  writeFileSync(rootfs, 'rootfs');
  return {
    dir,
    state: path.join(dir, 'state'),
    run: path.join(dir, 'run'),
    env: {
      MANAGER_RUN_DIR: path.join(dir, 'run'),
      MANAGER_STATE_DIR: path.join(dir, 'state'),
      MANAGER_QEMU_DISK_IMG_KERNEL_FILE: kernel,
      MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: rootfs,
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A started manager (inert backend, the agent channel unless `plugins` says otherwise, no transports) whose QEMUs are FakeLauncher's. */
export async function startChannelManager(
  dirs: ReturnType<typeof channelTestDirs>,
  launcher: FakeLauncher,
  env: Record<string, string>,
  plugins: ManagerPlugin[] = [agentChannelPlugin],
) {
  const manager = Manager.create({
    plugins: [createInertBackendPlugin(), ...plugins],
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
    ],
    logger: pino({ level: 'silent' }),
  });
  await manager.start();
  return manager;
}
