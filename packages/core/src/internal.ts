// @cocos-manager/core/internal: the kernel and the VM lifecycle behind the
// plugin API. For the manager app (which assembles a manager) and the test
// kit (which drives one); a plugin imports "@cocos-manager/core" only (lint).
import 'reflect-metadata';

export * from './logging.js';
export * from './metrics.js';
export * from './tracing.js';
export * from './internal-tokens.js';
export * from './config/manager-config.js';
export * from './attestation/corim.js';
export * from './attestation/policy-encoder.js';
export * from './security/index.js';
export * from './boot/ram-boot.js';
export * from './kernel/manager.js';
export * from './kernel/plugin-checks.js';
export * from './kernel/backend-registry.js';
export * from './kernel/boot-registry.js';
export * from './vm/vm-service.js';
export * from './vm/request-validation.js';
export * from './vm/console/console-follower.js';
export * from './vm/console/console-log.js';
export * from './vm/lifecycle/launch-plan.js';
export * from './vm/lifecycle/stop-ladder.js';
export * from './vm/host/liveness-watch.js';
export * from './vm/host/qemu-launcher.js';
export * from './vm/host/spawner/spawner-channel.js';
export * from './vm/host/spawner/spawner-client.js';
export * from './vm/host/spawner/spawned-qemu.js';
export * from './vm/host/port-allocator.js';
export * from './vm/host/qmp-client.js';
export * from './vm/host/process-identity.js';
export * from './vm/state/state-store.js';
export * from './vm/state/vm-files.js';
