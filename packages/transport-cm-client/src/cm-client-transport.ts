import { ConfigError, type AgentChannel, type Logger, type ManagerConfig, type ManagerMetrics, type Transport, type VmApi } from '@cocos-manager/core';
import { loadCmStreamProto } from '@cocos-manager/contract';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { AgentRelay } from './agent-relay.js';
import { Backoff } from './backoff.js';
import { cmClientOptions, type CmClientOptions } from './client-options.js';
import { ComputationRequests } from './computation-requests.js';
import { Computations } from './computations.js';
import { CM_LIMITS, type CmLimits } from './limits.js';
import { Outbox } from './outbox.js';
import { channelCredentials } from './process-stream.js';
import { channelProblem, RunProvisioner } from './run-provisioner.js';
import { cmClientSettings } from './settings.js';
import { StreamSession } from './stream-session.js';

/** What the client asks of the VM service. */
export type CmVmApi = Pick<VmApi, 'create' | 'remove' | 'cvmInfo' | 'attestationPolicy' | 'onAgent' | 'onEvent'>;

/** What the transport is built from (by the plugin's factory: AGENT_CHANNEL is optional). */
export interface CmClientDeps {
  readonly config: ManagerConfig;
  readonly logger: Logger;
  readonly vms: CmVmApi;
  readonly metrics: Pick<ManagerMetrics, 'observeCall'>;
  /** AGENT_CHANNEL, or null when no plugin provides it (runs then fail, reported as such). */
  readonly channel: AgentChannel | null;
  readonly limits?: Partial<CmLimits>;
  readonly random?: () => number;
}

export type CmClientState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopped';

/** The client as the logs, tests and operators see it. */
export interface CmClientStatus {
  readonly state: CmClientState;
  readonly url: string;
  /** Dials so far, and streams that got connected. */
  readonly attempts: number;
  readonly connections: number;
  readonly computations: number;
  readonly queued: number;
  readonly dropped: number;
  /** While waiting to redial: how long the wait is (ms); null otherwise. */
  readonly retryInMs: number | null;
}

/** A stream that stayed up this long (or on which the server spoke) was healthy: the backoff starts over. */
const HEALTHY_STREAM_SECONDS = 10;

const isLoopback = (url: string) => /^(dns:(\/\/\/)?)?(localhost|127\.[0-9.]+|\[::1\])(:\d+)?$/.test(url) || url.startsWith('unix:');

/**
 * The Computation Management client as a transport that dials instead of
 * listening: at start it checks its settings and TLS files (a bad one stops
 * start-up) and starts dialling MANAGER_GRPC_URL in the background (the
 * manager starts whether or not Computation Management is up). Each stream
 * ends in a redial after a capped, jittered exponential backoff; the
 * computations and their VMs live on across streams.
 */
export class CmClientTransport implements Transport {
  readonly name = 'cm-client';
  readonly computations = new Computations();
  readonly outbox: Outbox;
  private readonly limits: CmLimits;
  private readonly relay: AgentRelay;
  private readonly runs: RunProvisioner;
  private readonly requests: ComputationRequests;
  private readonly log: Logger;
  private options: CmClientOptions | null = null;
  private loop: Promise<void> | null = null;
  private session: StreamSession | null = null;
  private wake: (() => void) | null = null;
  private stopping = false;
  private state: CmClientState = 'idle';
  private attempts = 0;
  private connections = 0;
  private retryInMs = 0;

  constructor(private readonly deps: CmClientDeps) {
    this.limits = { ...CM_LIMITS, ...deps.limits };
    this.log = deps.logger.child({ transport: this.name });
    this.outbox = new Outbox(this.limits);
    const send = this.outbox.send.bind(this.outbox);
    const shared = { computations: this.computations, send, logger: this.log };
    this.relay = new AgentRelay({ vms: deps.vms, ...shared });
    this.runs = new RunProvisioner({ vms: deps.vms, channel: deps.channel, limits: this.limits, ...shared });
    this.requests = new ComputationRequests({ vms: deps.vms, ...shared });
  }

  address(): string {
    return this.options?.url ?? this.deps.config.read(cmClientSettings).cmClient.url;
  }

  status(): CmClientStatus {
    return {
      state: this.state,
      url: this.address(),
      attempts: this.attempts,
      connections: this.connections,
      computations: this.computations.size,
      queued: this.outbox.waiting,
      dropped: this.outbox.dropped,
      retryInMs: this.state === 'waiting' ? this.retryInMs : null,
    };
  }

  start(): Promise<void> {
    if (this.loop) return Promise.resolve();
    const options = cmClientOptions(this.deps.config);
    const creds = channelCredentials(options);
    checkTarget(options.url, creds);
    this.options = options;
    const problem = channelProblem(this.deps.channel);
    if (problem !== null) this.log.warn(`Computation Management client: ${problem}`);
    const tls = options.tls === null ? 'plaintext' : options.tls.cert ? 'mTLS' : 'TLS';
    if (tls === 'plaintext' && !isLoopback(options.url)) {
      this.log.warn({ url: options.url }, 'Computation Management is dialled in plaintext: set MANAGER_CM_SERVER_CA_CERTS (and a client certificate) for TLS');
    }
    this.log.info({ url: options.url, tls, ca: options.caFrom, dialTimeoutMs: options.dialTimeoutMs }, 'Computation Management client dialling');
    this.stopping = false;
    this.relay.start();
    this.loop = this.connectLoop(options, creds);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.session?.end('the manager is stopping');
    this.wake?.();
    await this.loop;
    this.loop = null;
    this.relay.stop();
    this.state = 'stopped';
  }

  private async connectLoop(options: CmClientOptions, creds: ChannelCredentials): Promise<void> {
    const backoff = new Backoff(options.reconnect.minMs, options.reconnect.maxMs, this.deps.random);
    while (!this.stopping) {
      this.state = 'connecting';
      this.attempts++;
      const session = new StreamSession({
        options,
        creds,
        outbox: this.outbox,
        runs: this.runs,
        requests: this.requests,
        logger: this.log,
        limits: this.limits,
        observe: (member, code, seconds) => this.deps.metrics.observeCall(this.name, member, code, seconds),
        onOpen: () => {
          this.state = 'connected';
          this.connections++;
          this.log.info({ url: options.url, connection: this.connections, queued: this.outbox.waiting }, 'connected to Computation Management');
        },
      });
      this.session = session;
      const outcome = await session.run();
      this.session = null;
      this.deps.metrics.observeCall(this.name, 'Process', outcome.code, outcome.seconds);
      if (this.stopping) break;
      if (outcome.connected && (outcome.heard || outcome.seconds >= HEALTHY_STREAM_SECONDS)) backoff.reset();
      const delayMs = outcome.terminated !== null ? backoff.max : backoff.next();
      const facts = {
        url: options.url,
        code: outcome.code,
        details: outcome.details,
        retryInMs: delayMs,
        failedAttempts: backoff.attempts,
        // MANAGER_GRPC_URL's default is the manager's own gRPC port: a server that knows no Process is likely this manager.
        ...(outcome.code === 'UNIMPLEMENTED' ? { hint: 'the server has no ManagerService.Process: is MANAGER_GRPC_URL Computation Management?' } : {}),
      };
      if (outcome.connected) this.log.warn(facts, 'the Computation Management stream ended; VMs keep running, redialling');
      else this.log.warn(facts, 'could not connect to Computation Management; redialling');
      this.retryInMs = delayMs;
      this.state = 'waiting';
      await this.pause(delayMs);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).finally(() => (this.wake = null));
  }
}

/** A target grpc-js cannot parse stops start-up naming MANAGER_GRPC_URL, not the first dial. */
function checkTarget(url: string, creds: ChannelCredentials): void {
  const { ManagerService } = loadCmStreamProto();
  try {
    new ManagerService(url, creds).close();
  } catch {
    throw new ConfigError(`${cmClientSettings.cmClient.url.env}=${JSON.stringify(url)}: expected a gRPC target such as cm.example:7001`);
  }
}
