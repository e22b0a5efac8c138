import { createConnection } from 'node:net';
import type { Logger } from '@cocos-manager/core';
import { AgentConnection, DEFAULT_CONNECTION_LIMITS, type ConnectionEnd, type ConnectionHandlers, type ConnectionLimits } from './agent-connection.js';
import type { ChannelCounters } from './channel-counters.js';

export interface ConnectorOptions {
  readonly counters: ChannelCounters;
  readonly logger: Logger;
  readonly limits?: ConnectionLimits;
  /** Wait between attempts while the socket is not there yet (QEMU starting) or after the guest closed it. */
  readonly retryMs?: number;
  /** After a cut (a flooding guest), the wait doubles from `retryMs` up to this, so a guest that keeps flooding costs little. */
  readonly maxBackoffMs?: number;
  readonly now?: () => number;
}

/**
 * The manager's end of one VM's virtio-serial events port: QEMU listens on
 * the VM's `agent-events.sock` (`server=on,wait=off`), the manager connects
 * and reads the agent's frames (AgentConnection: acks, bounds, counters).
 * The socket is the VM's own, so everything read from it is that VM's
 * (`source`). Connects again when the connection has closed — QEMU takes
 * one client at a time and a new one after it — and backs off after a cut.
 */
export class AgentSocketConnector {
  private connection: AgentConnection | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private backoffMs: number;
  private readonly retryMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    readonly path: string,
    readonly source: string,
    private readonly handlers: ConnectionHandlers,
    private readonly options: ConnectorOptions,
  ) {
    this.retryMs = options.retryMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.backoffMs = this.retryMs;
  }

  /** Whether a connection to the agent's port is open now. */
  get connected(): boolean {
    return this.connection !== null;
  }

  start(): void {
    this.stopped = false;
    this.attempt();
  }

  /** Stops connecting and closes the open connection. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.connection?.close();
    this.connection = null;
  }

  private attempt(): void {
    if (this.stopped) return;
    const socket = createConnection(this.path);
    socket.once('error', (err) => {
      // Not there yet (QEMU starting) or refused: try again.
      this.options.logger.debug({ err, source: this.source }, 'agent port not reachable yet');
      socket.destroy();
      this.later(this.retryMs);
    });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      if (this.stopped) return void socket.destroy();
      const { counters, logger, limits, now } = this.options;
      let ended: ConnectionEnd = 'closed';
      this.connection = new AgentConnection(
        socket,
        this.source,
        {
          ...this.handlers,
          onEnd: (end) => {
            ended = end;
            this.connection = null;
            this.handlers.onEnd?.(end);
          },
        },
        counters,
        logger,
        limits ?? DEFAULT_CONNECTION_LIMITS,
        now,
      );
      // Again only once this connection is closed — after a cut, when its
      // linger is over — not from the cut: QEMU would queue the new client
      // behind the old one and take it the moment the old one ends, so the
      // guest would never see its port closed, nor the backoff.
      socket.once('close', () => {
        if (ended === 'cut') {
          this.later(this.backoffMs);
          this.backoffMs = Math.min(this.maxBackoffMs, this.backoffMs * 2);
        } else {
          this.backoffMs = this.retryMs;
          this.later(this.retryMs);
        }
      });
    });
  }

  private later(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.attempt();
    }, ms);
    this.timer.unref();
  }
}
