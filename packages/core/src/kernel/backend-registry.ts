import type { Logger } from 'pino';
import type { HostFiles, ProbeResult } from '../api/host.js';
import type { BackendSelection, TeeBackend } from '../api/tee-backend.js';
import { coreSettings } from '../config/core-settings.js';
import type { ManagerConfig } from '../config/manager-config.js';
import { ConfigError } from '../config/manager-config.js';
import { ManagerError } from '../errors.js';

/** A backend auto-detection may pick: one that declares its selection. */
type Selectable = TeeBackend & { readonly selection: BackendSelection };

const isSelectable = (backend: TeeBackend): backend is Selectable => backend.selection !== undefined;

/** `A and B`, `A, B and C`. */
const spoken = (words: readonly string[]): string => (words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`);

/**
 * Chooses the one active TEE backend from configuration, never from
 * registration order, and without knowing any backend by name:
 * MANAGER_TEE_BACKEND names one explicitly; otherwise a backend whose own
 * switch is true is forced on; otherwise auto-detection tries the backends in
 * the priority they declare, probing each, down to a fallback that needs no
 * probe.
 */
export class BackendRegistry {
  private active: { readonly backend: TeeBackend; readonly probe: ProbeResult } | undefined;

  constructor(
    readonly backends: readonly TeeBackend[],
    private readonly config: ManagerConfig,
    private readonly host: HostFiles,
    private readonly logger: Logger,
  ) {
    const names = new Set<string>();
    const priorities = new Map<number, string>();
    for (const b of backends) {
      if (names.has(b.name)) throw new ConfigError(`two TEE backends are named "${b.name}"`);
      names.add(b.name);
      if (!b.selection) continue;
      const { priority } = b.selection;
      if (!Number.isFinite(priority))
        throw new ConfigError(`the "${b.name}" backend declares auto-detection priority ${String(priority)}: expected a finite number`);
      const same = priorities.get(priority);
      if (same !== undefined) {
        throw new ConfigError(
          `the "${same}" and "${b.name}" backends both declare auto-detection priority ${priority}: auto-detection needs one order, so each backend needs its own priority`,
        );
      }
      priorities.set(priority, b.name);
    }
  }

  byName(name: string): TeeBackend | undefined {
    return this.backends.find((b) => b.name === name);
  }

  /**
   * The backend configuration asks for. With `probe`, auto-detection asks the
   * host; without, it takes the fallback (used by `qemu-args`, which must
   * work on any machine).
   */
  async choose(options: { probe: boolean }): Promise<TeeBackend> {
    const explicit = this.config.read(coreSettings).manager.teeBackend;
    if (explicit !== '') return this.require(explicit);
    return this.forcedOn() ?? (await this.autoDetect(options.probe));
  }

  /** The backend whose own switch is true; two or more is a contradiction. */
  private forcedOn(): TeeBackend | undefined {
    const on = this.backends.filter(isSelectable).filter((b) => b.selection.switch?.value === true);
    if (on.length > 1) {
      const variables = on.map((b) => b.selection.switch?.env ?? b.name).sort();
      const quantity = on.length === 2 ? 'both' : 'all';
      const fix = on.length === 2 ? 'one of them' : 'all but one of them';
      throw new ConfigError(`${spoken(variables)} are ${quantity} true: a host runs one kind of confidential VM; set ${fix} to false`);
    }
    return on[0];
  }

  /** Highest declared priority first; a backend switched off takes no part. */
  private async autoDetect(probe: boolean): Promise<TeeBackend> {
    const candidates = this.backends
      .filter(isSelectable)
      .filter((b) => b.selection.switch?.value !== false)
      .sort((a, b) => b.selection.priority - a.selection.priority);
    const refused: string[] = [];
    for (const backend of candidates) {
      if (backend.selection.detect === 'fallback') return backend;
      if (!probe) continue;
      const result = await backend.probe(this.host);
      this.logger.debug({ backend: backend.name, ...result }, 'auto-detect probe');
      if (result.available) return backend;
      refused.push(`${backend.name}: ${result.reason}`);
    }
    const loaded = this.loadedNames();
    if (refused.length > 0) {
      throw new ManagerError(
        'BACKEND_UNAVAILABLE',
        `auto-detection found no backend this host can run (${refused.join('; ')}); set MANAGER_TEE_BACKEND to one of the loaded backends (${loaded})`,
      );
    }
    const why =
      candidates.length === 0
        ? 'no loaded backend takes part in auto-detection'
        : 'without probing the host, auto-detection needs a fallback backend and none is loaded';
    throw new ConfigError(`MANAGER_TEE_BACKEND is empty and ${why} (loaded backends: ${loaded}); set MANAGER_TEE_BACKEND to one of them`);
  }

  private require(name: string): TeeBackend {
    const backend = this.byName(name);
    if (!backend) {
      throw new ConfigError(`MANAGER_TEE_BACKEND selects the "${name}" backend, but no loaded plugin provides it (loaded backends: ${this.loadedNames()})`);
    }
    return backend;
  }

  private loadedNames(): string {
    return this.backends.map((b) => b.name).join(', ') || 'none';
  }

  /** Chooses, probes and validates the backend for serving; remembers it. */
  async activate(): Promise<TeeBackend> {
    const backend = await this.choose({ probe: true });
    const result = await backend.probe(this.host);
    if (!result.available) {
      throw new ManagerError('BACKEND_UNAVAILABLE', `the ${backend.name} backend cannot run on this host: ${result.reason}`);
    }
    await backend.validate();
    this.logger.info({ backend: backend.name, probe: result.reason }, 'TEE backend selected');
    this.active = { backend, probe: result };
    return backend;
  }

  /** The backend chosen by `activate`. */
  current(): TeeBackend {
    return this.activated().backend;
  }

  /** What the probe of `activate` found on this host. */
  currentProbe(): ProbeResult {
    return this.activated().probe;
  }

  private activated() {
    if (!this.active) throw new ManagerError('BACKEND_NOT_ACTIVE', 'no TEE backend is active (the manager was not started)');
    return this.active;
  }
}
