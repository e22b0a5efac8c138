// @cocos-manager/core: the plugin API. What a backend, boot strategy, device,
// transport or page plugin builds on: the interfaces and tokens of api/, the
// QEMU command model, the error catalogue, settings and their formats, and the
// few helpers transports share. The kernel and the VM lifecycle behind them
// are in "@cocos-manager/core/internal", for the manager app and the test kit.
import 'reflect-metadata';

export * from './errors.js';
export * from './node-builtins.js';
export * from './tokens.js';
export * from './version.js';
export * from './api/agent-messages.js';
export * from './api/api-auth.js';
export * from './api/attestation-policy.js';
export * from './api/boot-strategy.js';
export * from './api/connection-guard.js';
export * from './api/create-faults.js';
export * from './api/create-request-fields.js';
export * from './api/device-assignment.js';
export * from './api/firmware-version.js';
export * from './api/host.js';
export * from './api/http-pages.js';
export * from './api/launch-measurement.js';
export * from './api/manager-config.js';
export * from './api/observability.js';
export * from './api/plugin.js';
export * from './api/policy-encoder.js';
export * from './api/process-launcher.js';
export * from './api/settings.js';
export * from './api/tee-backend.js';
export * from './api/tokens.js';
export * from './api/transport.js';
export * from './api/vm-api.js';
export * from './api/vm-context.js';
export * from './api/vm-device.js';
export * from './api/vm-types.js';
export * from './api/host-status.js';
export * from './api/wire-views.js';
export { ConfigError } from './config/manager-config.js';
export * from './config/core-settings.js';
export * from './config/duration.js';
export * as formats from './config/formats.js';
export type { PortRange, LogLevel } from './config/formats.js';
export * from './qemu/index.js';
export { MAX_CONSOLE_LINE, CONSOLE_CUT_MARK, cutLongLines } from './vm/console/console-lines.js';
export { REQUEST_LIMITS } from './vm/request-validation.js';
export * from './vm/wire-view.js';
export * from './transport-kit/policy-format.js';
export * from './transport-kit/cvm-info-wire.js';
export * from './transport-kit/listening.js';
export * from './transport-kit/connection-admission.js';
export * from './transport-kit/vm-pages.js';
export * from './tls-material.js';
export { allows, requiredRole } from './security/roles.js';
export { inject, injectable, injectAll, instanceCachingFactory, Lifecycle, type DependencyContainer } from 'tsyringe';
export type { Logger } from 'pino';
