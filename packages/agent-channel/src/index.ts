import { AGENT_CHANNEL, definePlugin, VM_DEVICE, type DependencyContainer } from '@cocos-manager/core';
import { AgentChannelDevice } from './agent-channel-device.js';
import { agentChannelSettings } from './settings.js';

export { AGENT_CHANNEL_DEVICE, AgentChannelDevice, type ChannelAssignment } from './agent-channel-device.js';
export { AgentChannels, MANIFEST_TIMEOUT_MS, type ChannelsOptions } from './agent-channels.js';
export { agentRecordOf } from './agent-record.js';
export {
  DEFAULT_MANIFEST_DELIVERY,
  deliverManifest,
  MAX_MANIFEST_BYTES,
  type ManifestDeliveryFailure,
  type ManifestDeliveryOptions,
} from './manifest-delivery.js';
export { VsockBridgeProcess } from './vsock-bridge-process.js';
export { AgentConnection, DEFAULT_CONNECTION_LIMITS, type ConnectionEnd, type ConnectionHandlers, type ConnectionLimits } from './agent-connection.js';
export { SocketChardev, VhostVsockPci, VirtioSerialPci, VirtSerialPort } from './agent-elements.js';
export { AGENT_FIELD_LIMITS, decodeAgentMessage, type AgentEventMessage, type AgentLogMessage, type AgentMessage } from './agent-message.js';
export { AgentSocketConnector, type ConnectorOptions } from './agent-socket-connector.js';
export { AgentSocketListener, DEFAULT_MAX_CONNECTIONS, type ListenerOptions } from './agent-socket-listener.js';
export { ChannelCounters, type ChannelCounts } from './channel-counters.js';
export { VIRTIO_SERIAL, VSOCK_PORTS, virtioSerialElements } from './channel-layout.js';
export { CidPool, FIRST_GUEST_CID, LAST_GUEST_CID } from './cid-pool.js';
export { ACK_BYTES, encodeAck, encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, MAX_FRAME_PAYLOAD, type DecodeResult, type Frame } from './frame-codec.js';
export { FrameRejected, REJECT_REASONS, type RejectReason } from './frame-rejected.js';
export { agentSocketDir, checkSocketPaths } from './socket-paths.js';
export { AGENT_CHANNEL_MODES, agentChannelSettings, type AgentChannelMode } from './settings.js';
export { TokenBucket } from './token-bucket.js';
export {
  cidSocketPath,
  DEFAULT_BRIDGE_MAX_CHILDREN,
  VSOCK_BRIDGE_SCRIPT,
  vsockBridgeArgv,
  vsockManifestArgv,
  type VsockBridgeOptions,
} from './vsock-bridge.js';

export const PLUGIN_VERSION = '0.1.0';

/**
 * The seeds/002 agent channel (MANAGER_AGENT_CHANNEL=vsock|virtio-serial; off
 * by default): per VM its QEMU elements and, for vsock, its guest CID.
 */
export const agentChannelPlugin = definePlugin({
  name: '@cocos-manager/agent-channel',
  version: PLUGIN_VERSION,
  coreVersionRange: '^0.1.0',
  configSchema: agentChannelSettings,
  provides: [VM_DEVICE, AGENT_CHANNEL],
  register(container) {
    // One device is both: the VMs' channels and the way to their agents.
    let device: AgentChannelDevice | undefined;
    const one = (c: DependencyContainer) => (device ??= c.resolve(AgentChannelDevice));
    container.register(VM_DEVICE, { useFactory: one });
    container.register(AGENT_CHANNEL, { useFactory: one });
  },
});

export default agentChannelPlugin;
