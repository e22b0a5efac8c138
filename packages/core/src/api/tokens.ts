import type { Logger } from 'pino';
import type { ManagerConfig } from './manager-config.js';
import { createToken } from '../tokens.js';
import type { BootStrategy } from './boot-strategy.js';
import type { HostFiles } from './host.js';
import type { TeeBackend } from './tee-backend.js';
import type { Transport } from './transport.js';
import type { VmDevice } from './vm-device.js';
import type { VmLifecycle } from './vm-api.js';
import type { ProcessLauncher } from './process-launcher.js';
import type { CreateFaults } from './create-faults.js';
import type { ApiAuth } from './api-auth.js';
import type { ConnectionGuard } from './connection-guard.js';
import type { PolicyEncoder } from './policy-encoder.js';
import type { ManagerInfo, ManagerMetrics, ManagerTracing } from './observability.js';
import type { LaunchMeasurer } from './launch-measurement.js';
import type { WireViews } from './wire-views.js';
import type { AgentChannel, AgentMessageSink } from './agent-messages.js';

/** The validated configuration of this manager instance (core). */
export const CONFIG = createToken<ManagerConfig>('config');
/** The root pino logger (core). */
export const LOGGER = createToken<Logger>('logger');
/** The host as backends probe it (core; override in tests to replay recorded files). */
export const HOST = createToken<HostFiles>('host');
/** The VM lifecycle service the transports serve (core). */
export const VM_SERVICE = createToken<VmLifecycle>('vm.service');
/** Prometheus metrics shared by the transports (core). */
export const METRICS = createToken<ManagerMetrics>('metrics');
/** This manager's identity: instance id (MANAGER_INSTANCE_ID or generated), version, start time (core). */
export const MANAGER_INFO = createToken<ManagerInfo>('manager.info');
/** OpenTelemetry tracing (core). */
export const TRACING = createToken<ManagerTracing>('tracing');
/** Starts, adopts and speaks QMP to QEMU processes (core: execa + QMP; the test kit has a scriptable fake). */
export const PROCESS_LAUNCHER = createToken<ProcessLauncher>('process.launcher');
/** Fault points of a create (core: none; tests make a chosen step fail). */
export const CREATE_FAULTS = createToken<CreateFaults>('vm.create-faults');
/** Authentication and roles of API callers, for every transport (core). */
export const AUTHENTICATOR = createToken<ApiAuth>('api.authenticator');
/** Refuses connections that come from this manager's own VMs, for every transport (core). */
export const CONNECTION_GUARD = createToken<ConnectionGuard>('api.connection-guard');
/** How attestation policies go on the wire: CoRIM (signed or not) or JSON (core). */
export const POLICY_ENCODER = createToken<PolicyEncoder>('attestation.policy-encoder');
/** TEE backends; one is chosen by configuration (plugins). */
export const TEE_BACKEND = createToken<TeeBackend>('tee.backend', { multi: true });
/** Boot strategies; `ram` is core's (plugins add more). */
export const BOOT_STRATEGY = createToken<BootStrategy>('boot.strategy', { multi: true });
/** API transports (plugins). */
export const TRANSPORT = createToken<Transport>('transport', { multi: true });

/** Launch measurements computed from firmware and IGVM files (a plugin: @cocos-manager/measure); optional for backends. */
export const LAUNCH_MEASURER = createToken<LaunchMeasurer>('attestation.launch-measurer');

/** Per-VM devices (passed-through PCI devices…) that contribute QEMU elements and host resources (plugins). */
export const VM_DEVICE = createToken<VmDevice>('vm.device', { multi: true });

/** The APIs' views of VMs and of the host with the VM devices' fields in them (core). */
export const WIRE_VIEWS = createToken<WireViews>('api.wire-views');

/** Where plugins that hear VMs' agents hand their logs and events: history, streams, metrics (core). */
export const AGENT_MESSAGES = createToken<AgentMessageSink>('agent.messages');
/** The way to VMs' agents (manifest delivery); a plugin's (@cocos-manager/agent-channel), optional for its users. */
export const AGENT_CHANNEL = createToken<AgentChannel>('agent.channel');

/** Tokens the kernel itself provides; plugins may not provide them again. */
export const CORE_TOKENS: readonly symbol[] = [
  CONFIG,
  LOGGER,
  HOST,
  VM_SERVICE,
  METRICS,
  MANAGER_INFO,
  TRACING,
  PROCESS_LAUNCHER,
  CREATE_FAULTS,
  AUTHENTICATOR,
  CONNECTION_GUARD,
  POLICY_ENCODER,
  WIRE_VIEWS,
  AGENT_MESSAGES,
];
