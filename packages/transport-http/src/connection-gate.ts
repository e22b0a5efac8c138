import type { IncomingMessage, Server as HttpServer, ServerOptions, ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
import {
  guardRefusal,
  IGNORE_SOCKET_ERRORS,
  listenOnAll,
  nodeHttp,
  nodeHttps,
  type ConnectionGuard,
  type Logger,
  type ManagerMetrics,
} from '@cocos-manager/core';

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The server side of TLS, when HTTPS is on. */
export interface ServerTls {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly ca?: Buffer;
  readonly requestCert?: boolean;
  readonly rejectUnauthorized?: boolean;
}

/** Connection-level limits, in milliseconds and bytes (node's names for the Go manager's timeouts). */
export interface ConnectionLimits {
  readonly requestTimeout: number;
  readonly headersTimeout: number;
  readonly keepAliveTimeout: number;
  readonly maxHeaderSize: number;
  readonly maxConnections: number;
}

const IGNORE = IGNORE_SOCKET_ERRORS;

/**
 * Every TCP connection the HTTP servers accept passes here before HTTP or
 * TLS reads a byte of it: over MANAGER_HTTP_MAX_CONNECTIONS it is closed, and
 * the connection guard closes those that come from one of our VMs. The rest
 * go to the server's own connection handling (TLS handshake, HTTP parser).
 * Used as Fastify's serverFactory, so Fastify's server is one of ours.
 */
export class ConnectionGate {
  private open = 0;
  private handler: RequestHandler | null = null;
  private readonly servers: Server[] = [];

  constructor(
    private readonly guard: ConnectionGuard,
    private readonly metrics: ManagerMetrics,
    private readonly logger: Logger,
    private readonly tls: ServerTls | null,
    private readonly limits: ConnectionLimits,
  ) {}

  /** Fastify's serverFactory: the main server. */
  readonly serverFactory = (handler: RequestHandler): HttpServer => {
    this.handler = handler;
    return this.createServer(handler);
  };

  /** Open connections, refused ones while they close included. */
  get connections(): number {
    return this.open;
  }

  /**
   * Listens on `hosts` (the first on the main server, the others on extra
   * servers with the same handler and port); returns the bound port.
   * `localhost` means 127.0.0.1 and ::1, whatever /etc/hosts says.
   */
  async listen(main: HttpServer, host: string, port: number): Promise<number> {
    const { port: bound, servers } = await listenOnAll(main, () => this.createServer(this.handler ?? IGNORE), host, port, {
      logger: this.logger,
      transport: 'HTTP',
    });
    this.servers.push(...servers);
    return bound;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    await Promise.all(
      this.servers.splice(0).map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            (server as HttpServer).closeAllConnections();
          }),
      ),
    );
  }

  private createServer(handler: RequestHandler): HttpServer {
    const l = this.limits;
    const options: ServerOptions = {
      requestTimeout: l.requestTimeout,
      headersTimeout: l.headersTimeout,
      maxHeaderSize: l.maxHeaderSize,
      // Node checks the two timeouts above every interval (30 s by default): a fraction of them keeps them meant.
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(l.headersTimeout / 5))),
    };
    const server = this.tls
      ? nodeHttps.createServer({ ...options, ...this.tls, handshakeTimeout: l.headersTimeout }, handler)
      : nodeHttp.createServer(options, handler);
    server.keepAliveTimeout = l.keepAliveTimeout;
    const handoff = server.listeners('connection') as Array<(socket: Socket) => void>;
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      // admit() refuses on any failure itself; this catch only keeps a bug from becoming an unhandled rejection.
      this.admit(server, socket, handoff).catch(() => socket.destroy());
    });
    return server;
  }

  private async admit(server: Server, socket: Socket, handoff: Array<(socket: Socket) => void>): Promise<void> {
    // Until the server's own handler takes over, a reset must not become an uncaught 'error'.
    socket.on('error', IGNORE);
    if (this.open >= this.limits.maxConnections) return this.refuse(socket, 'connection-limit');
    this.open++;
    socket.once('close', () => this.open--);
    const reason = await guardRefusal(this.guard, socket, { logger: this.logger, transport: 'HTTP' });
    if (reason !== null) return this.refuse(socket, reason);
    if (socket.destroyed) return;
    socket.off('error', IGNORE);
    try {
      for (const listener of handoff) listener.call(server, socket);
    } catch (err) {
      this.logger.error({ err }, 'HTTP: a connection could not be handed to the server; closed');
      socket.destroy();
    }
  }

  private refuse(socket: Socket, reason: string): void {
    this.metrics.observeRefusedConnection('http', reason);
    socket.destroy();
  }
}
