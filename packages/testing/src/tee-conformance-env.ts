import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { emptyCreateVmRequest, TEE_BACKEND, VmContext, type ManagerPlugin, type TeeBackend } from '@cocos-manager/core';
import { Manager } from '@cocos-manager/core/internal';

export interface TeeBackendConformanceOptions {
  /** The plugin under test (it must provide a TEE backend). */
  readonly plugin: ManagerPlugin;
  /** The backend's name as it registers it. */
  readonly backendName: string;
  /** A configuration the backend works with: `validate` accepts it and `prepare` succeeds under it. */
  readonly env?: Readonly<Record<string, string>>;
  /** Plugins loaded alongside, for a backend that reads another plugin's settings (sev boots backend-plain's OVMF drives). */
  readonly companions?: readonly ManagerPlugin[];
  /**
   * What `attestationPolicy` gives under `env`: a policy document, or a
   * refusal (FAILED_PRECONDITION, or a ConfigError) for a backend without
   * attestation or missing what it measures. Declared, so the case checks
   * the outcome the backend should have rather than whichever it had.
   */
  readonly attestation: 'document' | 'refused';
  /** A configuration (over `env`) `validate` must refuse with a ConfigError: a missing firmware file, a wrong machine… */
  readonly invalidEnv?: Readonly<Record<string, string>>;
}

const silent = pino({ level: 'silent' });

/** The backend from a fresh manager with its plugin, and the manager. */
export function startBackend(options: TeeBackendConformanceOptions, env: Readonly<Record<string, string>> = {}): { manager: Manager; backend: TeeBackend } {
  const manager = Manager.create({ plugins: [...(options.companions ?? []), options.plugin], env: { ...options.env, ...env }, logger: silent });
  const backend = manager.container.resolveAll<TeeBackend>(TEE_BACKEND).find((b) => b.name === options.backendName);
  if (!backend) throw new Error(`plugin ${options.plugin.name} registers no TEE backend named "${options.backendName}"`);
  return { manager, backend };
}

export const vmContext = (parent: string, id: string) => new VmContext(id, path.join(parent, id), 6100, emptyCreateVmRequest(), 'quiet');

/** Runs `body` with a temporary directory, TMPDIR pointed into it (so writes to os.tmpdir() land where the case sees them), removed afterwards. */
export async function inTempDir(prefix: string, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)));
  const saved = process.env['TMPDIR'];
  mkdirSync(path.join(dir, 'tmp'));
  process.env['TMPDIR'] = path.join(dir, 'tmp');
  try {
    await body(dir);
  } finally {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}
