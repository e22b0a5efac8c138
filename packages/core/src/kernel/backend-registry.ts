import type { Logger } from 'pino';
import type { HostEnvironment } from '../api/host.js';
import type { TeeBackend } from '../api/tee-backend.js';
import type { ManagerConfig } from '../config/manager-config.js';
import { ConfigError } from '../config/manager-config.js';
import { ManagerError } from '../errors.js';

/** Names of the backends the Go manager's switches refer to. */
export const BACKEND_NAMES = { plain: 'plain', sevSnp: 'sev-snp', tdx: 'tdx' } as const;

/**
 * Chooses the one active TEE backend from configuration, never from
 * registration order: MANAGER_TEE_BACKEND names one explicitly; otherwise
 * MANAGER_QEMU_ENABLE_TDX / MANAGER_QEMU_ENABLE_SEV_SNP set to true pick
 * theirs; unset means auto-detect (TDX, then SEV-SNP, else plain).
 */
export class BackendRegistry {
  private active: TeeBackend | undefined;

  constructor(
    readonly backends: readonly TeeBackend[],
    private readonly config: ManagerConfig,
    private readonly host: HostEnvironment,
    private readonly logger: Logger,
  ) {
    const seen = new Set<string>();
    for (const b of backends) {
      if (seen.has(b.name)) throw new ConfigError(`two TEE backends are named "${b.name}"`);
      seen.add(b.name);
    }
  }

  byName(name: string): TeeBackend | undefined {
    return this.backends.find((b) => b.name === name);
  }

  /**
   * The backend configuration asks for. With `probe`, auto-detection asks the
   * host; without, auto-detection falls back to plain (used by `qemu-args`,
   * which must work on any machine).
   */
  async choose(options: { probe: boolean }): Promise<TeeBackend> {
    const explicit = this.config.get<string>('manager.teeBackend');
    const snp = this.config.get<boolean | null>('qemu.enableSevSnp');
    const tdx = this.config.get<boolean | null>('qemu.enableTdx');
    if (explicit !== '') return this.require(explicit, 'MANAGER_TEE_BACKEND');
    if (snp === true && tdx === true) {
      throw new ConfigError('MANAGER_QEMU_ENABLE_SEV_SNP and MANAGER_QEMU_ENABLE_TDX are both true: a host runs one kind of confidential VM; set one of them to false');
    }
    if (tdx === true) return this.require(BACKEND_NAMES.tdx, 'MANAGER_QEMU_ENABLE_TDX=true');
    if (snp === true) return this.require(BACKEND_NAMES.sevSnp, 'MANAGER_QEMU_ENABLE_SEV_SNP=true');

    if (options.probe) {
      const candidates = [
        [BACKEND_NAMES.tdx, tdx],
        [BACKEND_NAMES.sevSnp, snp],
      ] as const;
      for (const [name, flag] of candidates) {
        const backend = this.byName(name);
        if (!backend || flag === false) continue;
        const result = await backend.probe(this.host);
        this.logger.debug({ backend: name, ...result }, 'auto-detect probe');
        if (result.available) return backend;
      }
    }
    return this.require(BACKEND_NAMES.plain, 'auto-detection (no confidential backend available)');
  }

  private require(name: string, because: string): TeeBackend {
    const backend = this.byName(name);
    if (!backend) {
      const loaded = this.backends.map((b) => b.name).join(', ') || 'none';
      throw new ConfigError(`${because} selects the "${name}" backend, but no loaded plugin provides it (loaded backends: ${loaded})`);
    }
    return backend;
  }

  /** Chooses, probes and validates the backend for serving; remembers it. */
  async activate(): Promise<TeeBackend> {
    const backend = await this.choose({ probe: true });
    const result = await backend.probe(this.host);
    if (!result.available) {
      throw ManagerError.failedPrecondition(`the ${backend.name} backend cannot run on this host: ${result.reason}`);
    }
    await backend.validate();
    this.logger.info({ backend: backend.name, probe: result.reason }, 'TEE backend selected');
    this.active = backend;
    return backend;
  }

  /** The backend chosen by `activate`. */
  current(): TeeBackend {
    if (!this.active) throw ManagerError.internal('no TEE backend is active (the manager was not started)');
    return this.active;
  }
}
