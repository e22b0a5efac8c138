import type { ClientStreamMessageInput } from '@cocos-manager/contract';
import { approximateBytes } from './client-messages.js';
import type { CmLimits } from './limits.js';

/** The writable end of an open Process stream, as the outbox uses it. */
export interface StreamSink {
  /** Writes one message; false when the stream's buffer is full (wait for `drain`). */
  write(message: ClientStreamMessageInput): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

interface Queued {
  readonly message: ClientStreamMessageInput;
  readonly bytes: number;
}

/**
 * Every message for Computation Management goes through here. While a stream
 * is open and takes writes, a message is written at once; while none is open
 * (dialling, waiting to redial) or the open one's buffer is full, messages
 * wait in order, bounded by count and bytes — over either, the oldest are
 * dropped and counted. Each message is written to one stream only, never
 * again: upstream's stream has no acknowledgements, so a message written just
 * before a stream broke may be lost, and none is sent twice.
 */
export class Outbox {
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private sink: StreamSink | null = null;
  private blocked = false;
  private droppedCount = 0;
  private sentCount = 0;

  constructor(private readonly limits: Pick<CmLimits, 'maxQueuedMessages' | 'maxQueuedBytes'>) {}

  /** Messages dropped because the queue was full, since start. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Messages written to a stream, since start. */
  get sent(): number {
    return this.sentCount;
  }

  /** Messages waiting. */
  get waiting(): number {
    return this.queue.length;
  }

  send(message: ClientStreamMessageInput): void {
    if (this.sink && !this.blocked && this.queue.length === 0) {
      this.write(this.sink, message);
      return;
    }
    const bytes = approximateBytes(message);
    this.queue.push({ message, bytes });
    this.queuedBytes += bytes;
    while (this.queue.length > this.limits.maxQueuedMessages || (this.queuedBytes > this.limits.maxQueuedBytes && this.queue.length > 1)) {
      const oldest = this.queue.shift() as Queued;
      this.queuedBytes -= oldest.bytes;
      this.droppedCount++;
    }
  }

  /** A stream is open: what waits goes out on it, in order, as fast as it takes it. */
  attach(sink: StreamSink): void {
    this.sink = sink;
    this.blocked = false;
    this.flush();
  }

  /** The stream ended: messages wait for the next one. */
  detach(sink: StreamSink): void {
    if (this.sink !== sink) return;
    this.sink = null;
    this.blocked = false;
  }

  private flush(): void {
    while (this.sink && !this.blocked && this.queue.length > 0) {
      const next = this.queue.shift() as Queued;
      this.queuedBytes -= next.bytes;
      this.write(this.sink, next.message);
    }
  }

  private write(sink: StreamSink, message: ClientStreamMessageInput): void {
    this.sentCount++;
    if (sink.write(message)) return;
    this.blocked = true;
    sink.once('drain', () => {
      if (this.sink !== sink) return;
      this.blocked = false;
      this.flush();
    });
  }
}
