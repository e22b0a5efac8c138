import 'reflect-metadata';
import { container as rootContainer, instanceCachingFactory, Lifecycle, type DependencyContainer } from 'tsyringe';
import type { DestinationStream, Logger } from 'pino';
import type { ManagerPlugin } from '../api/plugin.js';
import { NO_CREATE_FAULTS } from '../api/create-faults.js';
import {
  AGENT_MESSAGES,
  AUTHENTICATOR,
  POLICY_ENCODER,
  BOOT_STRATEGY,
  CONFIG,
  CONNECTION_GUARD,
  CREATE_FAULTS,
  HOST,
  LOGGER,
  MANAGER_INFO,
  METRICS,
  PROCESS_LAUNCHER,
  TEE_BACKEND,
  TRACING,
  TRANSPORT,
  VM_DEVICE,
  VM_SERVICE,
  WIRE_VIEWS,
} from '../api/tokens.js';
import type { ManagerInfo } from '../api/observability.js';
import type { VmLifecycle } from '../api/vm-api.js';
import { PrometheusMetrics } from '../metrics.js';
import { OtelTracing } from '../tracing.js';
import type { Transport } from '../api/transport.js';
import { HostEnvironment } from '../api/host.js';
import { RamBootStrategy } from '../boot/ram-boot.js';
import { coreSettings, resolveStateDir } from '../config/core-settings.js';
import { authSettings } from '../security/auth-settings.js';
import { attestationSettings } from '../attestation/attestation-settings.js';
import { ConfiguredPolicyEncoder } from '../attestation/policy-encoder.js';
import { Authenticator } from '../security/authenticator.js';
import { VmOriginGuard } from '../security/vm-origin-guard.js';
import { loadManagerConfig, type ManagerConfig } from '../config/manager-config.js';
import { createLogger } from '../logging.js';
import { describeToken, resolveAllTokens, resolveToken } from '../tokens.js';
import { BUILD_INFO, CORE_VERSION } from '../version.js';
import { PortAllocator } from '../vm/host/port-allocator.js';
import { QemuLauncher } from '../vm/host/qemu-launcher.js';
import { SpawnerClient } from '../vm/host/spawner/spawner-client.js';
import { VmService } from '../vm/vm-service.js';
import { VM_DEVICES } from '../vm/vm-runtime.js';
import { DeviceWireViews } from '../vm/wire-view.js';
import { BackendRegistry } from './backend-registry.js';
import { BootRegistry } from './boot-registry.js';
import { AGENT_HUB, BACKEND_REGISTRY, BOOT_REGISTRY, PORT_ALLOCATOR, STATE_STORE } from '../internal-tokens.js';
import { AgentHub } from '../vm/agent/agent-hub.js';
import { VmEventBus } from '../vm/vm-events.js';
import { StateStore } from '../vm/state/state-store.js';
import { checkPlugins, PluginError } from './plugin-checks.js';
import { declaredContainer } from './declared-registrations.js';
import { nodeCrypto } from '../node-builtins.js';

const { randomUUID } = nodeCrypto;

export const CORE_PACKAGE = '@cocos-manager/core';

/** A provider that replaces whatever is registered for a token (tests, custom builds). */
export interface TokenOverride {
  readonly token: symbol;
  readonly useValue: unknown;
}

export interface ManagerOptions {
  readonly plugins: readonly unknown[];
  /** Environment to read configuration from (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly overrides?: readonly TokenOverride[];
  /** A logger to use instead of one built from MANAGER_LOG_LEVEL. */
  readonly logger?: Logger;
  /** Where the logger built from MANAGER_LOG_LEVEL writes (default stdout; one-shot commands whose stdout is data use stderr). */
  readonly logDestination?: DestinationStream;
}

/**
 * One manager instance: its own DI container (a child of tsyringe's root,
 * which nothing registers into), its configuration, its VM service and
 * transports.
 */
export class Manager {
  private started = false;

  private constructor(
    readonly container: DependencyContainer,
    readonly config: ManagerConfig,
    readonly logger: Logger,
    readonly plugins: readonly ManagerPlugin[],
  ) {}

  static create(options: ManagerOptions): Manager {
    const plugins = checkPlugins(options.plugins, CORE_VERSION);
    const config = loadManagerConfig(
      [
        { owner: CORE_PACKAGE, slice: coreSettings },
        { owner: CORE_PACKAGE, slice: authSettings },
        { owner: CORE_PACKAGE, slice: attestationSettings },
        ...plugins.map((p) => ({ owner: p.name, slice: p.configSchema ?? {} })),
      ],
      options.env ?? process.env,
    );
    const settings = config.read(coreSettings);
    const instanceId = settings.manager.instanceId;
    const baseLogger = options.logger ?? createLogger(settings.manager.logLevel, options.logDestination);
    const logger = instanceId === '' ? baseLogger : baseLogger.child({ instance: instanceId });
    const container = rootContainer.createChildContainer();

    container.register(CONFIG, { useValue: config });
    container.register(LOGGER, { useValue: logger });
    container.register(HOST, { useValue: new HostEnvironment('/') });
    container.register(PORT_ALLOCATOR, { useValue: new PortAllocator(settings.qemu.hostFwdRange) });
    container.register(STATE_STORE, { useValue: new StateStore(resolveStateDir(settings.manager.stateDir)) });
    container.register(BOOT_STRATEGY, { useClass: RamBootStrategy }, { lifecycle: Lifecycle.Singleton });
    container.register(BACKEND_REGISTRY, {
      useFactory: instanceCachingFactory((c) => new BackendRegistry(resolveAllTokens(c, TEE_BACKEND), config, resolveToken(c, HOST), logger)),
    });
    container.register(BOOT_REGISTRY, {
      useFactory: instanceCachingFactory((c) => new BootRegistry(resolveAllTokens(c, BOOT_STRATEGY))),
    });
    container.register(VM_DEVICES, { useFactory: instanceCachingFactory((c) => resolveAllTokens(c, VM_DEVICE)) });
    container.register(WIRE_VIEWS, { useFactory: instanceCachingFactory((c) => new DeviceWireViews(resolveToken(c, VM_DEVICES))) });
    const spawner = settings.qemu.spawner === 'helper' ? new SpawnerClient(logger) : null;
    container.register(PROCESS_LAUNCHER, { useValue: new QemuLauncher(spawner) });
    container.register(CREATE_FAULTS, { useValue: NO_CREATE_FAULTS });
    container.register(AUTHENTICATOR, { useValue: new Authenticator(config.read(authSettings).auth) });
    container.register(CONNECTION_GUARD, { useFactory: instanceCachingFactory((c) => new VmOriginGuard(resolveToken(c, VM_SERVICE), logger)) });
    const agents = new AgentHub(new VmEventBus());
    container.register(AGENT_HUB, { useValue: agents });
    container.register(AGENT_MESSAGES, { useValue: agents });
    container.register(VM_SERVICE, { useClass: VmService }, { lifecycle: Lifecycle.Singleton });
    container.register(METRICS, {
      useFactory: instanceCachingFactory(
        (c) =>
          new PrometheusMetrics(resolveToken(c, VM_SERVICE), settings.manager.maxVms, resolveToken(c, STATE_STORE), {
            onAgent: (listener) => agents.events.onAgent(listener),
            rejections: () => agents.rejections(),
          }),
      ),
    });
    const info: ManagerInfo = {
      instanceId: instanceId === '' ? randomUUID() : instanceId,
      version: CORE_VERSION,
      commit: BUILD_INFO.commit,
      buildTime: BUILD_INFO.buildTime,
      startedAt: new Date().toISOString(),
    };
    container.register(MANAGER_INFO, { useValue: info });
    container.register(POLICY_ENCODER, { useValue: new ConfiguredPolicyEncoder(config, info.instanceId) });
    container.register(TRACING, { useValue: new OtelTracing(config, info.instanceId, info.version) });

    for (const plugin of plugins) {
      try {
        plugin.register(declaredContainer(container, plugin), config);
      } catch (err) {
        if (err instanceof PluginError) throw err;
        throw new PluginError(`plugin "${plugin.name}": register failed: ${(err as Error).message}`);
      }
      for (const token of plugin.provides ?? []) {
        if (!container.isRegistered(token)) {
          throw new PluginError(`plugin "${plugin.name}": declares it provides ${describeToken(token).name} but did not register it`);
        }
      }
    }
    for (const { token, useValue } of options.overrides ?? []) {
      container.register(token, { useValue });
    }
    return new Manager(container, config, logger, plugins);
  }

  get service(): VmLifecycle {
    return resolveToken(this.container, VM_SERVICE);
  }

  transports(): Transport[] {
    return resolveAllTokens(this.container, TRANSPORT);
  }

  /** The argv one VM would get now, without starting anything. */
  previewQemuArgv(): Promise<string[]> {
    return this.service.previewArgv();
  }

  /** Selects and checks the backend, the VM devices and the boot media, then starts every transport. */
  async start(): Promise<void> {
    const backend = await resolveToken(this.container, BACKEND_REGISTRY).activate();
    // Each device checks the host resources it is configured with (a PCI device bound to its passthrough driver…).
    for (const device of resolveToken(this.container, VM_DEVICES)) await device.validate();
    const boot = resolveToken(this.container, BOOT_REGISTRY).choose();
    await boot.validate();
    await this.service.init();
    const started: Transport[] = [];
    try {
      for (const transport of this.transports()) {
        await transport.start();
        started.push(transport);
        this.logger.info({ transport: transport.name, address: transport.address() }, 'transport listening');
      }
      // The API served while VMs were re-adopted; the manager has started once they all are.
      await this.service.ready();
    } catch (err) {
      await Promise.allSettled(started.map((t) => t.stop()));
      throw err;
    }
    this.started = true;
    this.logger.info({ backend: backend.name, boot: boot.name, version: CORE_VERSION }, 'manager started');
  }

  /**
   * Stops the transports; then removes every VM when MANAGER_STOP_VMS_ON_EXIT
   * (or `removeVms`) says so, else leaves them running for the next manager.
   */
  async stop(options: { removeVms?: boolean } = {}): Promise<void> {
    if (this.started) {
      await Promise.allSettled(this.transports().map((t) => t.stop()));
      this.started = false;
    }
    await this.service.shutdown({ removeVms: options.removeVms ?? this.config.read(coreSettings).manager.stopVmsOnExit });
    await resolveToken(this.container, TRACING).shutdown();
    this.logger.info('manager stopped');
  }
}
