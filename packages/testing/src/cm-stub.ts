import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  encodeComputationRunReq,
  loadCmStreamProto,
  type ClientStreamMembers,
  type ClientStreamMessage,
  type ComputationRunReqInput,
  type ServerStreamMessageInput,
} from '@cocos-manager/contract';

/** Upstream's chunk size: a run request travels in pieces of 1 MiB, then an empty `is_last` chunk. */
export const CM_STUB_CHUNK_BYTES = 1024 * 1024;

export interface CmStubOptions {
  /** Address to listen on (default 127.0.0.1). */
  readonly host?: string;
  /** Port (default 0: any free one; a restart keeps the port it got). */
  readonly port?: number;
  /** TLS: the stub's certificate and key; with `clientCa`, clients must present a certificate it signed (mTLS). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly clientCa?: Buffer };
}

/** One message a manager sent, with the stream (1, 2, … in order of connection) it came on. */
export interface CmStubReceived {
  readonly connection: number;
  readonly at: number;
  readonly message: ClientStreamMessage;
}

type Member = keyof ClientStreamMembers;
type ProcessCall = ServerDuplexStream<ClientStreamMessage, ServerStreamMessageInput>;

/** Generous by default: waits end when their condition holds, the deadline only catches a hang. */
const DEFAULT_WAIT_MS = 120_000;

/**
 * A Computation Management stand-in (what upstream's test/computations was):
 * a real grpc-js server of `ManagerService.Process` at upstream's path
 * (/manager.ManagerService/Process) that a manager in client mode dials.
 * Tests and operators drive it — wait for a manager, send a chunked run
 * request, stop, svmInfoReq, attestationPolicyReq, terminate — and read what
 * the manager sent back. Restartable on the same port (a manager's reconnect).
 */
export class CmStub {
  /** Everything managers sent, across streams and restarts. */
  readonly received: CmStubReceived[] = [];
  private server: Server | null = null;
  private boundPort: number;
  private current: ProcessCall | null = null;
  private opened = 0;
  private readonly listeners = new Set<() => void>();
  private readonly messageListeners = new Set<(received: CmStubReceived) => void>();
  private readonly connectionListeners = new Set<(connection: number) => void>();

  private constructor(private readonly options: CmStubOptions) {
    this.boundPort = options.port ?? 0;
  }

  static async start(options: CmStubOptions = {}): Promise<CmStub> {
    const stub = new CmStub(options);
    await stub.listen();
    return stub;
  }

  get port(): number {
    return this.boundPort;
  }

  /** What MANAGER_GRPC_URL should say. */
  get url(): string {
    return `${this.options.host ?? '127.0.0.1'}:${this.boundPort}`;
  }

  /** Streams accepted so far (every reconnect is one more). */
  get connections(): number {
    return this.opened;
  }

  /** Whether a manager's stream is open now. */
  get connected(): boolean {
    return this.current !== null;
  }

  /** Calls `listener` with each message as it arrives; returns the unsubscribe function. */
  onMessage(listener: (received: CmStubReceived) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /** Calls `listener` when a manager's stream opens (with its number); returns the unsubscribe function. */
  onConnection(listener: (connection: number) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /** The messages of one member received so far, oldest first. */
  messages<K extends Member>(member: K): ClientStreamMembers[K][] {
    return this.received.filter((r) => r.message.message === member).map((r) => (r.message as Record<K, ClientStreamMembers[K]>)[member]);
  }

  /** Resolves once `count` streams were accepted in all and one is open. */
  waitForConnection(options: { count?: number; timeoutMs?: number } = {}): Promise<void> {
    const count = options.count ?? 1;
    return this.waitUntil(() => this.opened >= count && this.current !== null, options.timeoutMs, `stream ${count} of a manager`);
  }

  /** The first message of `member` (received already or later) that `matches`. */
  async waitForMessage<K extends Member>(
    member: K,
    matches: (message: ClientStreamMembers[K]) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<ClientStreamMembers[K]> {
    let found: ClientStreamMembers[K] | undefined;
    await this.waitUntil(() => (found = this.messages(member).find(matches)) !== undefined, timeoutMs, `a ${member} message`);
    return found as ClientStreamMembers[K];
  }

  /** Sends one message on the open stream; throws when no manager is connected. */
  send(message: ServerStreamMessageInput): void {
    if (!this.current) throw new Error('no manager is connected to the Computation Management stub');
    this.current.write(message);
  }

  /**
   * Sends `bytes` as RunReqChunks of `id`: pieces of `chunkBytes` (1 MiB),
   * then an empty chunk with is_last (unless `last` is false: a run left
   * incomplete). Returns how many chunks were sent.
   */
  sendChunks(id: string, bytes: Uint8Array, options: { chunkBytes?: number; last?: boolean } = {}): number {
    const size = options.chunkBytes ?? CM_STUB_CHUNK_BYTES;
    let sent = 0;
    for (let offset = 0; offset < bytes.byteLength; offset += size) {
      this.send({ runReqChunks: { id, data: Buffer.from(bytes.subarray(offset, offset + size)), is_last: false } });
      sent++;
    }
    if (options.last ?? true) {
      this.send({ runReqChunks: { id, data: Buffer.alloc(0), is_last: true } });
      sent++;
    }
    return sent;
  }

  /** Sends a run request as upstream's Computation Management does: marshalled, in chunks keyed by its id. */
  sendRun(run: ComputationRunReqInput & { id: string }, options: { chunkBytes?: number } = {}): number {
    return this.sendChunks(run.id, encodeComputationRunReq(run), options);
  }

  stopComputation(computationId: string): void {
    this.send({ stopComputation: { computation_id: computationId } });
  }

  svmInfo(id: string): void {
    this.send({ svmInfoReq: { id } });
  }

  attestationPolicy(id: string): void {
    this.send({ attestationPolicyReq: { id } });
  }

  terminate(message = 'terminated by the Computation Management stub'): void {
    this.send({ terminateReq: { message } });
  }

  /** Ends the open stream (OK status) while the server goes on listening. */
  disconnect(): void {
    const call = this.current;
    this.current = null;
    call?.end();
  }

  /** Stops listening and drops every stream at once (a Computation Management going away). */
  stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.current = null;
    server?.forceShutdown();
    this.changed();
    return Promise.resolve();
  }

  /** Stops, then listens again on the same port (what a manager's reconnect meets). */
  async restart(): Promise<void> {
    await this.stop();
    await this.listen();
  }

  private async listen(): Promise<void> {
    const server = new Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
    const { ManagerService } = loadCmStreamProto();
    server.addService(ManagerService.service, { Process: (call: ProcessCall) => this.accept(call) });
    const tls = this.options.tls;
    const credentials = tls
      ? ServerCredentials.createSsl(tls.clientCa ?? null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.clientCa !== undefined)
      : ServerCredentials.createInsecure();
    const host = this.options.host ?? '127.0.0.1';
    const address = `${host.includes(':') ? `[${host}]` : host}:${this.boundPort}`;
    const bind = () => new Promise<number>((resolve, reject) => server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port))));
    // Restarting: the port the stopped server held is released a moment after forceShutdown.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        this.boundPort = await bind();
        break;
      } catch (err) {
        if (this.boundPort === 0 || Date.now() > deadline || !/EADDRINUSE|address already in use/i.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.server = server;
  }

  private accept(call: ProcessCall): void {
    this.opened++;
    const connection = this.opened;
    this.current = call;
    call.on('data', (message: ClientStreamMessage) => {
      const received = { connection, at: Date.now(), message };
      this.received.push(received);
      for (const listener of this.messageListeners) listener(received);
      this.changed();
    });
    const closed = () => {
      if (this.current === call) this.current = null;
      this.changed();
    };
    call.on('end', () => {
      closed();
      call.end();
    });
    call.on('error', closed);
    call.on('cancelled', closed);
    for (const listener of this.connectionListeners) listener(connection);
    this.changed();
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private waitUntil(condition: () => boolean, timeoutMs = DEFAULT_WAIT_MS, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`the Computation Management stub waited ${timeoutMs} ms for ${what}`));
      }, timeoutMs);
      this.listeners.add(check);
    });
  }
}
