import { definePlugin, Lifecycle, TRANSPORT, VM_SERVICE } from '@cocos-manager/core';
import { GrpcTransport } from './grpc-transport.js';
import { grpcSettings } from './settings.js';

export { GrpcTransport } from './grpc-transport.js';
export { grpcSettings } from './settings.js';
// The contract lives in @cocos-manager/contract; re-exported for code written against 0.1.0.
export { loadManagerProto, MANAGER_PROTO_PATH, PROTO_OPTIONS } from '@cocos-manager/contract';
export { serviceErrorOf, toServiceError, type GrpcFailure } from './status.js';

export const PLUGIN_VERSION = '0.1.0';

/** The gRPC transport plugin: `manager.ManagerService` on MANAGER_GRPC_HOST:MANAGER_GRPC_PORT. */
export const grpcTransportPlugin = definePlugin({
  name: '@cocos-manager/transport-grpc',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: grpcSettings,
  provides: [TRANSPORT],
  requires: [VM_SERVICE],
  register(container) {
    container.register(TRANSPORT, { useClass: GrpcTransport }, { lifecycle: Lifecycle.Singleton });
  },
});

export default grpcTransportPlugin;
