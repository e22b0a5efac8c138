import type { FastifyReply, FastifyRequest } from 'fastify';
import { ManagerError, type Logger, type ManagerMetrics } from '@cocos-manager/core';
import { toHttpError } from './http-status.js';

/** The long-lived responses, as labelled in manager_stream_clients_dropped_total. */
export type StreamName = 'events' | 'console';

/** Subscribes a stream: `write` queues a chunk, `end` finishes it; returns the unsubscribe. */
export type StreamOpener = (write: (chunk: string) => void, end: () => void) => () => void;

/**
 * The long-lived responses (SSE /events, console ?follow), bounded: at most
 * `maxStreams` at once (one more is answered 503), and a client whose unsent
 * backlog passes `backlogBytes` — it reads slower than events come — is cut
 * off and counted, so it holds no more memory and the others keep receiving.
 */
export class BoundedStreams {
  private readonly open = new Set<() => void>();
  private readonly responses = new WeakSet<object>();

  constructor(
    private readonly limits: { readonly maxStreams: number; readonly backlogBytes: number },
    private readonly metrics: ManagerMetrics,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Whether `response` is a stream's (exempt from the write timeout). */
  holds(response: object): boolean {
    return this.responses.has(response);
  }

  /** Starts a stream on `reply`, or answers 503 when too many are open (then returns the reply to send). */
  start(request: FastifyRequest, reply: FastifyReply, name: StreamName, contentType: string, opener: StreamOpener): FastifyReply | undefined {
    if (this.open.size >= this.limits.maxStreams) {
      const { status, body } = toHttpError(
        new ManagerError('STREAM_LIMIT_REACHED', `${this.limits.maxStreams} streams are open, the most MANAGER_HTTP_MAX_STREAMS allows; retry later`),
      );
      return reply.code(status).header('retry-after', '5').send(body);
    }
    // HEAD gets the stream's headers and nothing to wait for.
    if (request.method === 'HEAD') return reply.type(contentType).header('cache-control', 'no-cache').send();
    reply.hijack();
    const res = reply.raw;
    this.responses.add(res);
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let closed = false;
    let unsubscribe: () => void = () => undefined;
    const finish = (how: 'end' | 'destroy') => {
      if (closed) return;
      closed = true;
      unsubscribe();
      this.open.delete(end);
      if (how === 'end') res.end();
      else res.destroy();
    };
    const end = () => finish('end');
    const write = (chunk: string) => {
      if (closed) return;
      // writableLength counts what the response and its socket still hold unsent.
      if (res.writableLength > this.limits.backlogBytes) {
        this.metrics.observeDroppedStream('http', name);
        this.logger.warn({ stream: name, backlog: res.writableLength }, `HTTP: a ${name} stream client reads too slowly; cut off`);
        finish('destroy');
        return;
      }
      res.write(chunk);
    };
    this.open.add(end);
    const off = opener(write, end);
    // The opener's first writes may already have ended the stream.
    if (closed) off();
    else unsubscribe = off;
    request.raw.on('close', end);
    res.on('close', end);
    return undefined;
  }

  /** Ends every open stream (shutdown). */
  closeAll(): void {
    for (const end of [...this.open]) end();
  }
}
