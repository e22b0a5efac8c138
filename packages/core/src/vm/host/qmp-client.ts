import net from 'node:net';
import { EventEmitter } from 'node:events';
import type { QmpEvent } from '../../api/process-launcher.js';
import { ManagerError } from '../../errors.js';

export type { QmpEvent };

export class QmpError extends ManagerError {
  constructor(
    message: string,
    readonly errorClass?: string,
  ) {
    super('QMP_COMMAND_FAILED', message);
    this.name = 'QmpError';
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * A QEMU Machine Protocol client over a unix socket: greeting, capability
 * negotiation, commands with ids, events. `closed` fires when QEMU goes away,
 * which is how a re-adopted QEMU (not our child) is seen to exit.
 */
export class QmpClient extends EventEmitter<{ event: [QmpEvent]; closed: [] }> {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private open = true;

  private constructor(private readonly socket: net.Socket) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => this.onClose());
    socket.on('error', () => undefined); // 'close' follows
  }

  /**
   * Connects and negotiates capabilities. QEMU sends its greeting only once
   * its main loop runs, i.e. after every device and backend (including the
   * hostfwd listener) was set up: a successful connect means QEMU started.
   */
  static async connect(path: string, timeoutMs = 5000): Promise<QmpClient> {
    // One deadline for the whole handshake (greeting and capabilities): a caller's timeout is exact.
    const deadline = Date.now() + timeoutMs;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(path);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new QmpError(`no QMP greeting on ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      s.once('data', (greeting) => {
        clearTimeout(timer);
        s.pause();
        if (!String(greeting).includes('"QMP"')) {
          s.destroy();
          reject(new QmpError(`${path} did not greet as QMP`));
          return;
        }
        s.removeAllListeners('error');
        resolve(s);
      });
    });
    const client = new QmpClient(socket);
    socket.resume();
    try {
      const left = deadline - Date.now();
      if (left <= 0) throw new QmpError(`no QMP handshake on ${path} within ${timeoutMs} ms`);
      await client.execute('qmp_capabilities', undefined, left);
    } catch (err) {
      // QEMU serves one QMP client at a time: a handshake left half-way would keep the monitor taken for good.
      client.close();
      throw err;
    }
    return client;
  }

  get connected(): boolean {
    return this.open;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<T> {
    if (!this.open) return Promise.reject(new QmpError(`QMP connection closed (${command})`));
    const id = `cm-${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QmpError(`QMP ${command} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id })}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).trim();
      this.buffer = this.buffer.slice(newline + 1);
      if (line === '') continue;
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (typeof message['event'] === 'string') {
        this.emit('event', message as unknown as QmpEvent);
        continue;
      }
      const id = typeof message['id'] === 'string' ? message['id'] : undefined;
      const waiter = id ? this.pending.get(id) : undefined;
      if (!id || !waiter) continue;
      this.pending.delete(id);
      clearTimeout(waiter.timer);
      if ('error' in message) {
        const error = message['error'] as { class?: string; desc?: string };
        waiter.reject(new QmpError(error.desc ?? 'QMP error', error.class));
      } else {
        waiter.resolve(message['return']);
      }
    }
  }

  private onClose(): void {
    if (!this.open) return;
    this.open = false;
    for (const [, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new QmpError('QMP connection closed'));
    }
    this.pending.clear();
    this.emit('closed');
  }
}
