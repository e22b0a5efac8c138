import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';

import { Manager, type TokenOverride } from '@cocos-manager/core/internal';

export interface TestManagerOptions {
  readonly plugins: readonly unknown[];
  /** Configuration; run/state directories, ports and tracing get test-friendly defaults. */
  readonly env?: Readonly<Record<string, string>>;
  /** Providers that replace registered ones (a fake allocator, a recorded host…). */
  readonly overrides?: readonly TokenOverride[];
  /** Start the transports and the VM service (default true). */
  readonly start?: boolean;
}

export interface TestManager {
  readonly manager: Manager;
  /** The temporary directory holding run/ and state/. */
  readonly dir: string;
  /**
   * Stops the manager and removes its directories; its VMs too, unless
   * `removeVms` is false (a test of re-adoption keeps them for the next manager).
   */
  stop(options?: { removeVms?: boolean }): Promise<void>;
}

/**
 * One call from a plugin list to a started manager, isolated from the host:
 * its own run and state directories, ports chosen by the OS, no tracing
 * export, a silent logger.
 */
export async function startTestManager(options: TestManagerOptions): Promise<TestManager> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cocos-test-manager-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  let manager: Manager;
  try {
    manager = Manager.create({
      plugins: options.plugins,
      env: {
        MANAGER_RUN_DIR: path.join(dir, 'run'),
        MANAGER_STATE_DIR: path.join(dir, 'state'),
        MANAGER_GRPC_HOST: '127.0.0.1',
        MANAGER_GRPC_PORT: '0',
        MANAGER_HTTP_HOST: '127.0.0.1',
        MANAGER_HTTP_PORT: '0',
        COCOS_JAEGER_TRACE_RATIO: '0',
        MANAGER_QEMU_ENABLE_KVM: 'false',
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        ...options.env,
      },
      overrides: options.overrides ?? [],
      logger: pino({ level: 'silent' }),
    });
  } catch (err) {
    remove(); // a configuration the manager refuses (what some tests want to see) leaves no directory behind
    throw err;
  }
  try {
    if (options.start ?? true) await manager.start();
  } catch (err) {
    // A start that fails (what some tests want to see) leaves no directory behind.
    await manager.stop({ removeVms: true }).catch(() => undefined);
    remove();
    throw err;
  }
  return {
    manager,
    dir,
    async stop({ removeVms = true } = {}) {
      try {
        await manager.stop({ removeVms });
      } finally {
        remove();
      }
    },
  };
}
