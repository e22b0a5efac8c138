import type { BootStrategy } from './api/boot-strategy.js';
import type { ProbeResult } from './api/host.js';
import type { TeeBackend } from './api/tee-backend.js';
import { createToken } from './tokens.js';
import type { StateStore } from './vm/state/state-store.js';
import type { AgentHub } from './vm/agent/agent-hub.js';

/** The active TEE backend and the others by name (implemented by BackendRegistry). */
export interface BackendChoice {
  byName(name: string): TeeBackend | undefined;
  /** The backend configuration asks for; without `probe`, auto-detection takes the fallback. */
  choose(options: { probe: boolean }): Promise<TeeBackend>;
  /** Chooses, probes and validates the backend for serving; remembers it. */
  activate(): Promise<TeeBackend>;
  /** The backend `activate` chose. */
  current(): TeeBackend;
  /** What the probe of `activate` found on this host. */
  currentProbe(): ProbeResult;
}

/** The boot strategy configuration selects (implemented by BootRegistry). */
export interface BootChoice {
  byName(name: string): BootStrategy | undefined;
  choose(): BootStrategy;
}

/** The host ports handed out to VMs (implemented by PortAllocator). */
export interface PortPool {
  readonly size: number;
  readonly inUse: number;
  /** A free port, reserved; RESOURCE_EXHAUSTED when none is left. */
  allocate(): Promise<number>;
  /** Marks a port as held without probing (a re-adopted VM's). */
  claim(port: number): void;
  reservedPorts(): number[];
  release(port: number): void;
}

/** Tokens of the kernel's own services (not meant for plugins to provide). */
export const BACKEND_REGISTRY = createToken<BackendChoice>('kernel.backend-registry');
export const BOOT_REGISTRY = createToken<BootChoice>('kernel.boot-registry');
export const PORT_ALLOCATOR = createToken<PortPool>('kernel.port-allocator');
/** The VM state records under MANAGER_STATE_DIR (a test may give one over a failing filesystem). */
export const STATE_STORE = createToken<StateStore>('kernel.state-store');

/** The VMs' agent messages: the event bus they go on and their histories (the same object is AGENT_MESSAGES). */
export const AGENT_HUB = createToken<AgentHub>('kernel.agent-hub');
