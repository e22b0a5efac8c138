import { connectivityState, credentials, status, type ChannelCredentials, type Client, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { loadCmStreamProto, type ClientStreamMessageInput, type ServerStreamMessage } from '@cocos-manager/contract';
import type { CmClientOptions } from './client-options.js';
import { CM_LIMITS } from './limits.js';
import type { StreamSink } from './outbox.js';

/** How one stream went. */
export interface StreamOutcome {
  /** Whether the channel became ready (the dial worked) before the stream ended. */
  readonly connected: boolean;
  /** The gRPC status name it ended with (`UNAVAILABLE`, `CANCELLED`, `OK` when the server closed it). */
  readonly code: string;
  readonly details: string;
  readonly seconds: number;
  /** Whether Computation Management sent anything on it. */
  readonly heard: boolean;
}

export interface StreamHandlers {
  /** The stream is open: its writable end. */
  onOpen(sink: StreamSink): void;
  onMessage(message: ServerStreamMessage): void;
}

type ProcessCall = ClientDuplexStream<ClientStreamMessageInput, ServerStreamMessage>;
type CmClient = Client & { Process(): ProcessCall };

/** The channel credentials of the options' TLS (plaintext without). */
export function channelCredentials(options: Pick<CmClientOptions, 'tls'>): ChannelCredentials {
  const tls = options.tls;
  return tls ? credentials.createSsl(tls.ca, tls.key, tls.cert) : credentials.createInsecure();
}

/** Channel options: bounded receive, keepalive pings that find a dead peer behind a quiet stream. */
export const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': CM_LIMITS.maxMessageBytes,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  // One dial per attempt: the client's own backoff decides when to dial again.
  'grpc.initial_reconnect_backoff_ms': 60_000,
  'grpc.enable_retries': 0,
} as const;

/**
 * One Process stream to Computation Management on a fresh channel: dials,
 * counts it open once the channel is ready (within the dial timeout, else
 * the attempt is dropped), hands every message it reads to the handlers,
 * and resolves with how it ended. A fresh channel per attempt, so the
 * client's backoff is the only one.
 */
export class ProcessStream {
  private call: ProcessCall | null = null;
  private cancelled: string | null = null;

  constructor(
    private readonly options: CmClientOptions,
    private readonly creds: ChannelCredentials,
    private readonly handlers: StreamHandlers,
  ) {}

  /** Ends the stream (manager stopping, terminateReq); `run` resolves soon after. */
  end(reason: string): void {
    this.cancelled ??= reason;
    this.call?.cancel();
  }

  run(): Promise<StreamOutcome> {
    const started = Date.now();
    const { ManagerService } = loadCmStreamProto();
    const client = new ManagerService(this.options.url, this.creds, CHANNEL_OPTIONS) as unknown as CmClient;
    const call = client.Process();
    this.call = call;
    if (this.cancelled !== null) call.cancel();
    let connected = false;
    let heard = false;
    return new Promise<StreamOutcome>((resolve) => {
      let done = false;
      const finish = (code: number, details: string) => {
        if (done) return;
        done = true;
        clearTimeout(dialTimer);
        client.close();
        const name = this.cancelled !== null ? 'CANCELLED' : (status[code] ?? String(code));
        resolve({ connected, code: name, details: this.cancelled ?? details, seconds: (Date.now() - started) / 1000, heard });
      };
      const dialTimer = setTimeout(() => {
        if (!connected) {
          this.cancelled ??= `not connected within ${this.options.dialTimeoutMs} ms`;
          call.cancel();
        }
      }, this.options.dialTimeoutMs);
      const channel = client.getChannel();
      const watch = (): void => {
        if (done) return;
        const state = channel.getConnectivityState(true);
        if (state === connectivityState.READY) {
          connected = true;
          clearTimeout(dialTimer);
          this.handlers.onOpen(call);
          return;
        }
        if (state === connectivityState.SHUTDOWN) return;
        channel.watchConnectivityState(state, Date.now() + this.options.dialTimeoutMs, () => watch());
      };
      watch();
      call.on('data', (message: ServerStreamMessage) => {
        heard = true;
        this.handlers.onMessage(message);
      });
      call.on('error', (err: ServiceError) => finish(err.code, err.details));
      call.on('status', (s: { code: number; details: string }) => finish(s.code, s.details));
      // The server closed its side: close ours (the status follows).
      call.on('end', () => call.end());
    });
  }
}
