import { constants as http2 } from 'node:http2';
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { ManagerStreamRpcs } from '@cocos-manager/contract';
import { ManagerError, type Logger, type ManagerMetrics, type VmApi, type VmStreamEvent } from '@cocos-manager/core';
import { agentMessageBytes, agentMessageWire } from './agent-wire.js';
import { toServiceError } from './status.js';

type WatchEvent = ManagerStreamRpcs['WatchEvents']['response'];
export type WatchCall = ServerWritableStream<ManagerStreamRpcs['WatchEvents']['request'], WatchEvent>;

export interface WatchLimits {
  /** MANAGER_GRPC_MAX_STREAMS */
  readonly maxStreams: number;
  /** MANAGER_GRPC_STREAM_BACKLOG_BYTES */
  readonly backlogBytes: number;
}

/** A client over the bound that has taken nothing for this long has stopped reading. */
const STALL_MS = 1000;
/** However fast it reads, a client this many bounds behind is cut off: memory stays bounded under any flood. */
const CEILING_FACTOR = 8;

/** Roughly what one event costs while it waits to be sent: its strings and the framing around them. */
function sizeOf(event: WatchEvent): number {
  return (
    32 +
    event.kind.length +
    event.vm_id.length +
    event.state.length +
    event.previous_state.length +
    Buffer.byteLength(event.detail) +
    Buffer.byteLength(event.line) +
    event.at.length +
    (event.agent ? agentMessageBytes(event.agent) : 0)
  );
}

function wireEvent(event: VmStreamEvent): WatchEvent {
  const none = { state: '', previous_state: '', detail: '', line: '' };
  switch (event.kind) {
    case 'lifecycle':
      return { kind: 'lifecycle', vm_id: event.vmId, state: event.state, previous_state: event.previous ?? '', detail: event.detail, line: '', at: event.at };
    case 'console':
      return { ...none, kind: 'console', vm_id: event.vmId, line: event.line, at: event.at };
    case 'agent':
      return { ...none, kind: 'agent', vm_id: event.vmId, at: event.at, agent: agentMessageWire(event.message) };
  }
}

interface ResettableStream {
  close(code: number): void;
  readonly destroyed: boolean;
}

/**
 * The HTTP/2 stream under a grpc-js server call. grpc-js has no public way to
 * reset a stream; without it, a status meant for a reader that stopped
 * reading would wait behind everything it has not read. Found through
 * grpc-js ≥ 1.10's call objects; null if their shape changes.
 */
function http2StreamOf(call: WatchCall): ResettableStream | null {
  const inner = (call as unknown as { call?: { stream?: unknown; nextCall?: { stream?: unknown } } }).call;
  const stream = inner?.stream ?? inner?.nextCall?.stream;
  return stream && typeof (stream as ResettableStream).close === 'function' ? (stream as ResettableStream) : null;
}

/**
 * WatchEvents: lifecycle events (and console lines, agent messages) until the client goes
 * away. At most MANAGER_GRPC_MAX_STREAMS at once (RESOURCE_EXHAUSTED
 * beyond). A client whose unsent backlog is over
 * MANAGER_GRPC_STREAM_BACKLOG_BYTES and that has taken no message for a
 * second, or that falls 8 bounds behind however fast it reads (the console
 * follower hands over up to 1 MiB of lines at once, so a healthy reader may
 * briefly be over one bound), is cut off: its stream is reset with
 * ENHANCE_YOUR_CALM (grpc clients see RESOURCE_EXHAUSTED), its buffer freed,
 * and it is counted in manager_stream_clients_dropped_total; the others keep
 * receiving, since each stream has its own backlog.
 */
export class WatchStreams {
  private open = 0;

  constructor(
    private readonly service: Pick<VmApi, 'onEvent' | 'onConsole' | 'onAgent'>,
    private readonly metrics: ManagerMetrics,
    private readonly logger: Logger,
    private readonly limits: WatchLimits,
  ) {}

  /** Streams open now. */
  get streams(): number {
    return this.open;
  }

  serve(call: WatchCall): void {
    if (this.open >= this.limits.maxStreams) {
      this.metrics.observeCall('grpc', 'WatchEvents', 'RESOURCE_EXHAUSTED', 0);
      call.emit(
        'error',
        toServiceError(new ManagerError('STREAM_LIMIT_REACHED', `${this.limits.maxStreams} WatchEvents streams are open already (MANAGER_GRPC_MAX_STREAMS)`)),
      );
      return;
    }
    this.open++;
    this.metrics.observeCall('grpc', 'WatchEvents', 'OK', 0);
    const { vm_id: vmId, lifecycle_only: lifecycleOnly } = call.request;
    let backlog = 0;
    // When the client last took a message (or had nothing pending): a reader keeps this fresh, a stalled one does not.
    let lastProgress = Date.now();
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      this.open--;
      unsubscribe.forEach((u) => u());
    };
    const { backlogBytes } = this.limits;
    const send = (event: VmStreamEvent) => {
      if (ended || (vmId !== '' && event.vmId !== vmId)) return;
      const message = wireEvent(event);
      const size = sizeOf(message);
      const now = Date.now();
      if (backlog === 0) lastProgress = now;
      const stalled = backlog > backlogBytes && now - lastProgress > STALL_MS;
      if (stalled || backlog + size > CEILING_FACTOR * backlogBytes) return this.drop(call, backlog, end);
      backlog += size;
      call.write(message, () => {
        backlog -= size;
        lastProgress = Date.now();
      });
    };
    const unsubscribe = [this.service.onEvent(send), ...(lifecycleOnly ? [] : [this.service.onConsole(send), this.service.onAgent(send)])];
    call.on('cancelled', end);
    call.on('close', end);
    call.on('finish', end);
    call.on('error', end);
  }

  private drop(call: WatchCall, backlog: number, end: () => void): void {
    end();
    this.metrics.observeDroppedStream('grpc', 'WatchEvents');
    this.logger.warn({ peer: call.getPeer(), backlog }, `gRPC: cut off a WatchEvents client ${backlog} bytes behind (MANAGER_GRPC_STREAM_BACKLOG_BYTES)`);
    const stream = http2StreamOf(call);
    if (stream && !stream.destroyed) {
      stream.close(http2.NGHTTP2_ENHANCE_YOUR_CALM);
      // The messages it never read are freed now, not when its connection goes.
      call.destroy();
    } else {
      call.emit(
        'error',
        toServiceError(new ManagerError('STREAM_READER_TOO_SLOW', 'this WatchEvents client read too slowly (MANAGER_GRPC_STREAM_BACKLOG_BYTES)')),
      );
    }
  }
}
