import type { Socket } from 'node:net';
import type { Logger } from '@cocos-manager/core';
import { decodeAgentMessage, type AgentMessage } from './agent-message.js';
import type { ChannelCounters } from './channel-counters.js';
import { encodeAck, FRAME_HEADER_BYTES, FrameDecoder, MAX_FRAME_PAYLOAD } from './frame-codec.js';
import { FrameRejected } from './frame-rejected.js';
import { TokenBucket } from './token-bucket.js';

/** How much one guest connection may send before it is cut off. */
export interface ConnectionLimits {
  /** The largest frame payload (at most 1 MiB, the protocol's). */
  readonly maxPayload: number;
  /** Frames: a burst of this many, then `framesPerSecond`. */
  readonly framesBurst: number;
  readonly framesPerSecond: number;
  /** Bytes on the wire: a burst of this many (at least one whole frame), then `bytesPerSecond`. */
  readonly bytesBurst: number;
  readonly bytesPerSecond: number;
  /** Acknowledgements the guest has not read yet, in bytes: a guest that does not read them is cut off. */
  readonly maxUnreadAckBytes: number;
}

/**
 * Far above what an agent sends (a few events per computation step and its
 * log lines), far below what would cost the host: 2 MiB/s and 500 frames/s
 * sustained per connection.
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxPayload: MAX_FRAME_PAYLOAD,
  framesBurst: 1000,
  framesPerSecond: 500,
  bytesBurst: 4 * (MAX_FRAME_PAYLOAD + FRAME_HEADER_BYTES),
  bytesPerSecond: 2 * MAX_FRAME_PAYLOAD,
  maxUnreadAckBytes: 64 * 1024,
};

/** How long a cut connection may take to flush its last acknowledgements before it is destroyed. */
const CUT_LINGER_MS = 1000;

/** Why a connection ended: the guest closed it (or it failed), or the channel cut it off. */
export type ConnectionEnd = 'closed' | 'cut';

export interface ConnectionHandlers {
  /** A checked message from the agent of `source`. Must be quick; what it throws is logged, never the guest's problem. */
  onMessage(message: AgentMessage): void;
  /** A refused frame (and, when fatal, the cut that follows). */
  onRejected?(rejected: FrameRejected): void;
  onEnd?(end: ConnectionEnd): void;
}

/**
 * One agent connection (a vsock connection through the bridge, or a VM's
 * virtio-serial port): frames in, each acknowledged with its id once read;
 * payloads decoded into checked messages. Everything is bounded per
 * connection — one unfinished frame buffered, a frame and a byte rate, the
 * acknowledgements the guest leaves unread — and a guest over a bound is cut
 * off and counted. Which VM spoke is `source`, fixed by whoever accepted the
 * connection (the socket it came on), never read from the bytes.
 */
export class AgentConnection {
  private readonly decoder: FrameDecoder;
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;
  private ended = false;

  constructor(
    private readonly socket: Socket,
    readonly source: string,
    private readonly handlers: ConnectionHandlers,
    private readonly counters: ChannelCounters,
    private readonly logger: Logger,
    private readonly limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
    now?: () => number,
  ) {
    this.decoder = new FrameDecoder(limits.maxPayload);
    this.frames = new TokenBucket(limits.framesBurst, limits.framesPerSecond, now);
    this.bytes = new TokenBucket(limits.bytesBurst, limits.bytesPerSecond, now);
    counters.connection();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.logger.debug({ err, source }, 'agent connection failed'));
    socket.on('close', () => this.end('closed'));
  }

  /** Bytes held for the frame being received. */
  get buffered(): number {
    return this.decoder.buffered;
  }

  /** Closes it from the manager's side (the VM went away). */
  close(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.ended) return;
    if (!this.bytes.take(chunk.length)) return this.cut(new FrameRejected('flood', `sent more than ${this.limits.bytesPerSecond} bytes/s`));
    // The frames before a bad header stand: delivered and acknowledged, then the cut.
    const { frames, rejected } = this.decoder.push(chunk);
    for (const frame of frames) {
      if (!this.frames.take()) return this.cut(new FrameRejected('flood', `sent more than ${this.limits.framesPerSecond} frames/s`));
      this.deliver(frame.payload);
      // Acknowledged once read, whatever its payload (as upstream's reader does): the agent does not resend it.
      this.socket.write(encodeAck(frame.id));
      if (this.socket.writableLength > this.limits.maxUnreadAckBytes) {
        return this.cut(new FrameRejected('flood', `left more than ${this.limits.maxUnreadAckBytes} bytes of acknowledgements unread`));
      }
    }
    if (rejected) this.cut(rejected);
  }

  private deliver(payload: Buffer): void {
    let message: AgentMessage;
    try {
      message = decodeAgentMessage(payload);
    } catch (err) {
      const rejected = err instanceof FrameRejected ? err : new FrameRejected('malformed', String(err));
      this.counters.rejected(rejected.rejectReason);
      this.logger.debug({ source: this.source, reason: rejected.rejectReason, err: rejected.message }, 'agent frame dropped');
      this.handlers.onRejected?.(rejected);
      return;
    }
    this.counters.frame(payload.length);
    try {
      this.handlers.onMessage(message);
    } catch (err) {
      this.logger.error({ err, source: this.source }, 'handling an agent message failed');
    }
  }

  private cut(rejected: FrameRejected): void {
    if (this.ended) return;
    this.counters.rejected(rejected.rejectReason);
    this.counters.cut();
    this.logger.warn({ source: this.source, reason: rejected.rejectReason, err: rejected.message }, 'agent connection cut off');
    this.handlers.onRejected?.(rejected);
    this.end('cut');
    // Read nothing more; what was acknowledged goes out, then the connection is closed (at once if the guest does not take it).
    this.socket.pause();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CUT_LINGER_MS).unref();
  }

  private end(end: ConnectionEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.handlers.onEnd?.(end);
  }
}
