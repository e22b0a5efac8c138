import {
  AGENT_CHANNEL,
  CONFIG,
  definePlugin,
  instanceCachingFactory,
  LOGGER,
  METRICS,
  resolveOptionalToken,
  resolveToken,
  TRANSPORT,
  VM_SERVICE,
} from '@cocos-manager/core';
import { CmClientTransport } from './cm-client-transport.js';
import { cmClientSettings } from './settings.js';

export { AgentRelay } from './agent-relay.js';
export { Backoff } from './backoff.js';
export { CM_EVENTS, CM_STATUS, MANAGER_ORIGINATOR, managerEvent, relayedMessage, timestampOf } from './client-messages.js';
export { cmClientOptions, DEFAULT_DIAL_TIMEOUT_MS, serverCaOf, SHARED_VARIABLES, type CmClientOptions } from './client-options.js';
export { readClientTls, type ClientTls, type ClientTlsPaths } from './client-tls.js';
export { CmClientTransport, type CmClientDeps, type CmClientState, type CmClientStatus, type CmVmApi } from './cm-client-transport.js';
export { ComputationRequests } from './computation-requests.js';
export { Computations, type Computation } from './computations.js';
export { isValidId } from './ids.js';
export { CM_LIMITS, type CmLimits } from './limits.js';
export { Outbox, type StreamSink } from './outbox.js';
export { CHANNEL_OPTIONS, channelCredentials, ProcessStream, type StreamOutcome } from './process-stream.js';
export { RunAssembler, type AssemblerLimits, type ChunkOutcome } from './run-assembler.js';
export { createRequestOf, GUEST_CERT_PATHS, manifestOf, placeAgentConfig } from './run-mapping.js';
export { channelProblem, RunProvisioner } from './run-provisioner.js';
export { parseRunRequest } from './run-request.js';
export { ServerMessages } from './server-messages.js';
export { cmClientSettings } from './settings.js';

export const PLUGIN_VERSION = '0.1.0';

/**
 * The seeds/002 Computation Management client (MANAGER_CM_CLIENT_ENABLE=true;
 * off by default): a transport that dials MANAGER_GRPC_URL and serves
 * Computation Management's run, stop, SVM info and attestation policy
 * requests over one stream, with the agent channel (when loaded) carrying
 * each run's manifest to its VM and the agent's logs and events back.
 */
export const cmClientPlugin = definePlugin({
  name: '@cocos-manager/transport-cm-client',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: cmClientSettings,
  mayProvide: [TRANSPORT],
  requires: [VM_SERVICE],
  register(container, config) {
    if (!config.read(cmClientSettings).cmClient.enable) return;
    container.register(TRANSPORT, {
      // Built by a factory: AGENT_CHANNEL is optional (a build without the agent-channel plugin reports every run failed, saying why).
      useFactory: instanceCachingFactory(
        (c) =>
          new CmClientTransport({
            config: resolveToken(c, CONFIG),
            logger: resolveToken(c, LOGGER),
            vms: resolveToken(c, VM_SERVICE),
            metrics: resolveToken(c, METRICS),
            channel: resolveOptionalToken(c, AGENT_CHANNEL),
          }),
      ),
    });
  },
});

export default cmClientPlugin;
