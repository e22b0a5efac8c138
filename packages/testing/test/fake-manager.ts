import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { CREATE_FAULTS, PROCESS_LAUNCHER, type CreateFaults, type VmContext } from '@cocos-manager/core';
import { Manager, PORT_ALLOCATOR, PortAllocator, STATE_STORE, StateStore, type StateFileSystem, type TokenOverride } from '@cocos-manager/core/internal';
import { createInertBackendPlugin } from '../src/inert-backend.js';
import { FakeLauncher } from '../src/fake-launcher.js';

/** A directory for one test: run/ and state/ of its managers, and stand-in boot files. */
export function testDirs() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cocos-lifecycle-'));
  const kernel = path.join(dir, 'bzImage');
  const rootfs = path.join(dir, 'rootfs.cpio.gz');
  writeFileSync(kernel, 'kernel');
  writeFileSync(rootfs, 'rootfs');
  return {
    dir,
    run: path.join(dir, 'run'),
    state: path.join(dir, 'state'),
    env: { MANAGER_QEMU_DISK_IMG_KERNEL_FILE: kernel, MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: rootfs },
    /** What is left on disk: VM directories and state files (not the running manager's lock). */
    async leftovers(): Promise<{ run: string[]; state: string[] }> {
      const list = (d: string) => readdir(d).catch(() => [] as string[]);
      return { run: await list(path.join(dir, 'run')), state: (await list(path.join(dir, 'state'))).filter((n) => n !== 'manager.lock') };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export type TestDirs = ReturnType<typeof testDirs>;

/** A logger whose lines (parsed) the test reads back. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/**
 * A started manager with no transports whose QEMUs are FakeLauncher's: the
 * real lifecycle (files, ports, state, supervision), fake processes.
 */
export async function startFakeManager(
  dirs: TestDirs,
  options: {
    launcher: FakeLauncher;
    env?: Record<string, string>;
    faults?: CreateFaults;
    prepare?: (vm: VmContext) => Promise<void>;
    logger?: Logger;
    /** Called with the manager before it starts (to use it while `start` runs). */
    onCreated?: (manager: Manager) => void;
    /** The state store's filesystem (a FaultyStateFiles to fail its writes). */
    stateFiles?: StateFileSystem;
    /** The inert backend's name and cleanup. */
    backend?: { name?: string; cleanup?: (vm: VmContext) => Promise<void> };
    /** More plugins (a boot strategy, devices). */
    plugins?: unknown[];
  },
) {
  const overrides: TokenOverride[] = [
    { token: PROCESS_LAUNCHER, useValue: options.launcher },
    // Every port is free: the pool's bookkeeping is what these tests check.
    { token: PORT_ALLOCATOR, useValue: new PortAllocator({ first: 7100, last: 7109 }, async () => true) },
  ];
  if (options.faults) overrides.push({ token: CREATE_FAULTS, useValue: options.faults });
  if (options.stateFiles) overrides.push({ token: STATE_STORE, useValue: new StateStore(dirs.state, options.stateFiles) });
  const manager = Manager.create({
    plugins: [createInertBackendPlugin({ ...(options.prepare ? { prepare: options.prepare } : {}), ...options.backend }), ...(options.plugins ?? [])],
    env: {
      MANAGER_RUN_DIR: dirs.run,
      MANAGER_STATE_DIR: dirs.state,
      COCOS_JAEGER_TRACE_RATIO: '0',
      MANAGER_QEMU_ENABLE_KVM: 'false',
      MANAGER_VM_START_TIMEOUT: '2s',
      MANAGER_VM_POWERDOWN_TIMEOUT: '2s',
      MANAGER_VM_STOP_TIMEOUT: '2s',
      ...dirs.env,
      ...options.env,
    },
    overrides,
    logger: options.logger ?? pino({ level: 'silent' }),
  });
  options.onCreated?.(manager);
  await manager.start();
  return manager;
}
