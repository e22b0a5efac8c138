import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '@cocos-manager/core';
import { AgentConnection, DEFAULT_CONNECTION_LIMITS, type ConnectionHandlers, type ConnectionLimits } from './agent-connection.js';
import type { ChannelCounters } from './channel-counters.js';
import { FrameRejected } from './frame-rejected.js';

export interface ListenerOptions {
  readonly counters: ChannelCounters;
  readonly logger: Logger;
  readonly limits?: ConnectionLimits;
  /** Connections of this VM at once (its agent needs one; a reconnect may overlap the old one). */
  readonly maxConnections?: number;
  readonly now?: () => number;
}

/** Connections one VM may hold at once on its socket by default. */
export const DEFAULT_MAX_CONNECTIONS = 2;

/**
 * One VM's Unix socket of the agent channel: everything that connects to it
 * speaks for that VM (`source`), because only that VM's relay reaches it —
 * the vsock bridge picks the socket by the peer CID the kernel reported, so
 * a guest cannot name another VM. Connections over `maxConnections` are
 * refused and counted as a flood; each connection is bounded on its own
 * (AgentConnection), so one VM's flood costs the others nothing.
 */
export class AgentSocketListener {
  private readonly server: Server;
  private readonly open = new Set<AgentConnection>();
  private readonly maxConnections: number;

  constructor(
    readonly path: string,
    readonly source: string,
    private readonly handlers: ConnectionHandlers,
    private readonly options: ListenerOptions,
  ) {
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Connections open now. */
  get connections(): number {
    return this.open.size;
  }

  /** Listens (a stale socket file of an earlier manager is replaced). */
  async listen(): Promise<void> {
    await rm(this.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.server.on('error', (err) => this.options.logger.error({ err, source: this.source }, 'agent channel socket failed'));
  }

  /** Stops listening, closes its connections and removes the socket file. */
  async close(): Promise<void> {
    for (const connection of this.open) connection.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.path, { force: true });
  }

  private accept(socket: Socket): void {
    const { counters, logger } = this.options;
    if (this.open.size >= this.maxConnections) {
      counters.rejected('flood');
      counters.cut();
      logger.warn({ source: this.source, reason: 'flood' }, `agent connection refused: ${this.maxConnections} are open already`);
      this.handlers.onRejected?.(new FrameRejected('flood', `more than ${this.maxConnections} connections at once`));
      socket.destroy();
      return;
    }
    const handlers = this.handlers;
    const connection = new AgentConnection(
      socket,
      this.source,
      {
        ...handlers,
        onEnd: (end) => {
          this.open.delete(connection);
          handlers.onEnd?.(end);
        },
      },
      counters,
      logger,
      this.options.limits ?? DEFAULT_CONNECTION_LIMITS,
      this.options.now,
    );
    this.open.add(connection);
  }
}
