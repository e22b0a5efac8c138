import net, { type Server, type Socket } from 'node:net';
import { guardRefusal, IGNORE_SOCKET_ERRORS, listenOnAll, type ConnectionGuard, type Logger, type ManagerMetrics } from '@cocos-manager/core';

/** Connection-level limits of the gRPC listener. */
export interface GateLimits {
  readonly maxConnections: number;
  /** How long a new connection may take to send its first PREFACE_BYTES (MANAGER_GRPC_SERVER_READ_HEADER_TIMEOUT). */
  readonly prefaceTimeoutMs: number;
}

/** The HTTP/2 client preface is 24 bytes; a TLS ClientHello is longer. Either way a live client sends this much at once. */
export const PREFACE_BYTES = 24;

const IGNORE = IGNORE_SOCKET_ERRORS;

/**
 * Our own TCP listener in front of grpc-js: every accepted connection is
 * checked here before TLS or HTTP/2 reads a byte of it. Over
 * MANAGER_GRPC_MAX_CONNECTIONS, from one of our VMs (the connection guard),
 * or silent past the preface deadline, it is destroyed and counted in
 * manager_connections_refused_total{transport="grpc"}; the others are handed
 * to grpc-js (`injectConnection`), with what they sent so far still buffered.
 */
export class ConnectionGate {
  private open = 0;
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly guard: ConnectionGuard,
    private readonly metrics: ManagerMetrics,
    private readonly logger: Logger,
    private readonly limits: GateLimits,
    private readonly handoff: (socket: Socket) => void,
  ) {}

  /** Open connections (admitted or being checked). */
  get connections(): number {
    return this.open;
  }

  /**
   * Listens on `host` (`localhost`: 127.0.0.1 and ::1 on the same port,
   * whatever /etc/hosts says; empty: 0.0.0.0); returns the bound port.
   */
  async listen(host: string, port: number): Promise<number> {
    // With port 0 the second address may find "our" port taken by someone else: pick another.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.listenOnce(host, port);
      } catch (err) {
        await this.close();
        if (port !== 0 || attempt >= 5 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
  }

  private async listenOnce(host: string, port: number): Promise<number> {
    const { port: bound, servers } = await listenOnAll(this.createServer(), () => this.createServer(), host, port, {
      logger: this.logger,
      transport: 'gRPC',
    });
    this.servers.push(...servers);
    return bound;
  }

  /** Stops listening and destroys every connection it accepted. */
  async close(): Promise<void> {
    const closing = this.servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closing);
  }

  private createServer(): Server {
    // pauseOnConnect: nothing is read until the connection is admitted, so a refused peer's bytes never reach userland.
    return net.createServer({ pauseOnConnect: true }, (socket) => {
      // admit() refuses on any failure itself; this catch only keeps a bug from becoming an unhandled rejection.
      this.admit(socket).catch(() => socket.destroy());
    });
  }

  private async admit(socket: Socket): Promise<void> {
    // Until grpc-js takes over, a reset must not become an uncaught 'error'.
    socket.on('error', IGNORE);
    if (this.open >= this.limits.maxConnections) return this.refuse(socket, 'connection-limit');
    this.open++;
    this.sockets.add(socket);
    socket.once('close', () => {
      this.open--;
      this.sockets.delete(socket);
    });
    let reason = await guardRefusal(this.guard, socket, { logger: this.logger, transport: 'gRPC' });
    if (reason === null && !socket.destroyed) reason = (await this.preface(socket)) ? null : 'header-timeout';
    if (socket.destroyed) return;
    if (reason !== null) return this.refuse(socket, reason);
    socket.off('error', IGNORE);
    this.handoff(socket);
  }

  /** Whether the peer sent its first PREFACE_BYTES in time; they stay buffered for grpc-js. */
  private preface(socket: Socket): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        socket.off('readable', check);
        socket.off('close', closed);
        resolve(ok);
      };
      // 'readable' only signals: the data stays in the socket's buffer until grpc-js reads it.
      const check = () => {
        if (socket.readableLength >= PREFACE_BYTES) done(true);
      };
      const closed = () => done(false);
      const timer = setTimeout(() => done(false), this.limits.prefaceTimeoutMs);
      socket.on('readable', check);
      socket.once('close', closed);
      check();
    });
  }

  private refuse(socket: Socket, reason: string): void {
    this.metrics.observeRefusedConnection('grpc', reason);
    socket.destroy();
  }
}
