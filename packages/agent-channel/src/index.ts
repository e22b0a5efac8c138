export { AgentConnection, DEFAULT_CONNECTION_LIMITS, type ConnectionEnd, type ConnectionHandlers, type ConnectionLimits } from './agent-connection.js';
export { AGENT_FIELD_LIMITS, decodeAgentMessage, type AgentEventMessage, type AgentLogMessage, type AgentMessage } from './agent-message.js';
export { AgentSocketListener, DEFAULT_MAX_CONNECTIONS, type ListenerOptions } from './agent-socket-listener.js';
export { ChannelCounters, type ChannelCounts } from './channel-counters.js';
export { ACK_BYTES, encodeAck, encodeFrame, FRAME_HEADER_BYTES, FrameDecoder, MAX_FRAME_PAYLOAD, type DecodeResult, type Frame } from './frame-codec.js';
export { FrameRejected, REJECT_REASONS, type RejectReason } from './frame-rejected.js';
export { TokenBucket } from './token-bucket.js';

export const PLUGIN_VERSION = '0.1.0';
