import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import {
  AUTHENTICATOR,
  clientErrorOf,
  cvmInfoWire,
  CONFIG,
  CONNECTION_GUARD,
  inject,
  injectable,
  LOGGER,
  ManagerError,
  METRICS,
  readTlsMaterial,
  TRACING,
  VM_SERVICE,
  WIRE_VIEWS,
  type ApiAuth,
  type ConnectionGuard,
  type Logger,
  type ManagerConfig,
  type ManagerMetrics,
  type ManagerTracing,
  type SliceValues,
  type Transport,
  type VmApi,
  type VmWireView,
  type WireViews,
} from '@cocos-manager/core';
import { loadManagerPackageDefinition, POLICY_FORMAT_METADATA, type ManagerUnaryRpc, type VmInfo } from '@cocos-manager/contract';
import { policyFormatFrom } from './policy-format.js';
import { authorizeCall } from './call-auth.js';
import { authFirst } from './auth-interceptor.js';
import { ConnectionGate } from './connection-gate.js';
import { loadHealthPackageDefinition } from './proto.js';
import { grpcSettings } from './settings.js';
import { serviceErrorOf } from './status.js';
import { unaryHandler, type Handler, type UnaryRun } from './unary-call.js';
import { WatchStreams, type WatchCall } from './watch-streams.js';
import { fromCreateReq } from './wire.js';
import { managerServiceDefinition } from './service-definition.js';

const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** An HTTP/2 session's header tables, queued output and control frames: far above what an honest client needs. */
const SESSION_MEMORY_MB = 32;

/** A VM's wire view as VmInfo: the VM devices' fields are VmInfo's (one no loaded device fills goes out as its proto3 default). */
const asVmInfo = (view: VmWireView): VmInfo => view as VmWireView & VmInfo;

/** `manager.ManagerService` over gRPC, wire-compatible with the Go manager. */
@injectable()
export class GrpcTransport implements Transport {
  readonly name = 'grpc';
  private server: Server | null = null;
  private gate: ConnectionGate | null = null;
  private readonly streams: WatchStreams;
  private health: HealthImplementation | null = null;
  private readonly grpcService = managerServiceDefinition();
  private boundPort = 0;
  /** Whether TLS asks clients for a certificate (MANAGER_GRPC_CLIENT_CA_CERTS): only then can a call carry one. */
  private verifiesClients = true;
  private readonly settings: SliceValues<typeof grpcSettings>['grpc'];

  constructor(
    @inject(VM_SERVICE) private readonly service: VmApi,
    @inject(CONFIG) config: ManagerConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(METRICS) private readonly metrics: ManagerMetrics,
    @inject(TRACING) private readonly tracing: ManagerTracing,
    @inject(AUTHENTICATOR) private readonly auth: ApiAuth,
    @inject(CONNECTION_GUARD) private readonly guard: ConnectionGuard,
    @inject(WIRE_VIEWS) private readonly views: WireViews,
  ) {
    this.settings = config.read(grpcSettings).grpc;
    const s = this.settings;
    this.streams = new WatchStreams(service, metrics, logger, { maxStreams: s.maxStreams, backlogBytes: s.streamBacklogBytes });
  }

  address(): string {
    return `${this.host()}:${this.boundPort}`;
  }

  /** The port actually bound (MANAGER_GRPC_PORT=0 picks a free one). */
  port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const s = this.settings;
    // TLS material first: a bad configuration stops start-up before anything listens.
    const credentials = this.credentials();
    const server = new Server({
      // Large enough that an oversized certificate reaches request validation
      // (INVALID_ARGUMENT naming the field) instead of a bare transport error.
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_connection_idle_ms': s.idleTimeout,
      'grpc.keepalive_time_ms': s.readTimeout,
      'grpc.keepalive_timeout_ms': s.writeTimeout,
      // Bounds per connection: streams at once, and the HTTP/2 session's own memory (MB; grpc-js lifts Node's default of 10).
      'grpc.max_concurrent_streams': s.maxConcurrentStreams,
      'grpc-node.max_session_memory': SESSION_MEMORY_MB,
      // Channelz (grpc-js's per-call and per-socket tracking) is served by no one here: ~1 KiB allocated per call for nothing.
      'grpc.enable_channelz': 0,
      // With authentication on, a call is refused on its metadata before its message is read.
      interceptors: this.auth.enabled
        ? [
            authFirst({
              auth: this.auth,
              metrics: this.metrics,
              logger: this.logger,
              maxHeaderBytes: s.maxHeaderBytes,
              clientCertificates: () => this.verifiesClients,
            }),
          ]
        : [],
    });
    server.addService(this.grpcService.definition, this.handlers());
    // grpc.health.v1.Health: "" and the service report SERVING while we listen.
    this.health = new HealthImplementation({ '': 'SERVING', 'manager.ManagerService': 'SERVING' });
    this.health.addToServer(server);
    // Server reflection, so grpcurl-style tools work without the .proto.
    new ReflectionService({ ...loadManagerPackageDefinition(), ...loadHealthPackageDefinition() }).addToServer(server);
    // grpc-js never listens itself: our gate accepts, checks, then injects each connection (TLS included).
    const injector = server.createConnectionInjector(credentials);
    const gate = new ConnectionGate(
      this.guard,
      this.metrics,
      this.logger,
      { maxConnections: s.maxConnections, prefaceTimeoutMs: s.readHeaderTimeout },
      (socket) => injector.injectConnection(socket),
    );
    try {
      this.boundPort = await gate.listen(s.host, s.port);
    } catch (err) {
      server.forceShutdown();
      throw new ManagerError('TRANSPORT_LISTEN_FAILED', `gRPC cannot listen on ${this.host()}:${s.port}: ${(err as Error).message}`);
    }
    this.server = server;
    this.gate = gate;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    // No new connections; those open get grpc-js's graceful shutdown, then the gate closes what is left.
    const gate = this.gate;
    this.gate = null;
    this.health?.setStatus('', 'NOT_SERVING');
    this.health?.setStatus('manager.ManagerService', 'NOT_SERVING');
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => server.forceShutdown(), 5000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await gate?.close();
  }

  private host(): string {
    return this.settings.host === '' ? '0.0.0.0' : this.settings.host;
  }

  private credentials(): ServerCredentials {
    const c = this.settings;
    const tls = readTlsMaterial(
      { cert: c.serverCert, key: c.serverKey, chain: c.serverCaCerts, clientCa: c.clientCaCerts },
      { cert: 'MANAGER_GRPC_SERVER_CERT', key: 'MANAGER_GRPC_SERVER_KEY', chain: 'MANAGER_GRPC_SERVER_CA_CERTS', clientCa: 'MANAGER_GRPC_CLIENT_CA_CERTS' },
    );
    this.verifiesClients = tls !== null && tls.clientCa !== null;
    if (!tls) return ServerCredentials.createInsecure();
    return ServerCredentials.createSsl(tls.clientCa, [{ cert_chain: tls.certChain, private_key: tls.key }], tls.clientCa !== null);
  }

  private handlers(): UntypedServiceImplementation {
    const s = this.service;
    return {
      CreateVm: this.unary('CreateVm', async (req) => {
        const started = performance.now();
        try {
          const vm = await s.create(fromCreateReq(req));
          this.metrics.observeCreate((performance.now() - started) / 1000, true);
          return { forwarded_port: String(vm.forwardedPort), cvm_id: vm.id };
        } catch (err) {
          this.metrics.observeCreate((performance.now() - started) / 1000, false);
          throw err;
        }
      }),
      RemoveVm: this.unary('RemoveVm', async (req) => {
        await s.remove(req.cvm_id);
        return {};
      }),
      CVMInfo: this.unary('CVMInfo', (req) => cvmInfoWire(s.cvmInfo(req.id))),
      AttestationPolicy: this.unary('AttestationPolicy', async (req, metadata) => {
        // The upstream request has no format field: our clients may ask for one out of band.
        const info = await s.attestationPolicy(req.id, policyFormatFrom(metadata.get(POLICY_FORMAT_METADATA)[0]));
        return { info: Buffer.from(info), id: req.id };
      }),
      ListVms: this.unary('ListVms', (req) => {
        const page = s.listPage(req.page_size ?? 0, req.page_token ?? '');
        // VMs are gone since the encoder last saw them: forget their bytes.
        if (this.grpcService.vmList.size > page.total) this.grpcService.vmList.retainOnly(s.list());
        return { vms: page.vms.map((vm) => asVmInfo(this.views.vm(vm))), next_page_token: page.nextPageToken };
      }),
      GetVm: this.unary('GetVm', async (req) => asVmInfo(this.views.vm(await s.get(req.id)))),
      GetConsole: this.unary('GetConsole', async (req) => ({
        text: await s.consoleOutput(req.id, req.max_bytes > 0 ? Math.min(req.max_bytes, 4 * 1024 * 1024) : undefined),
      })),
      WatchEvents: (call: WatchCall) => this.watch(call),
    };
  }

  /** WatchEvents, after the same per-call check as the unary RPCs. */
  private watch(call: WatchCall): void {
    try {
      authorizeCall(this.auth, call, 'WatchEvents', this.settings.maxHeaderBytes, this.verifiesClients);
    } catch (err) {
      const failure = clientErrorOf(err);
      this.metrics.observeCall('grpc', 'WatchEvents', failure.code, 0);
      this.logger.info({ method: 'WatchEvents', code: failure.code, error: failure.message }, 'gRPC call refused');
      call.emit('error', serviceErrorOf(failure));
      return;
    }
    this.streams.serve(call);
  }

  private unary<M extends ManagerUnaryRpc>(method: M, run: UnaryRun<M>): Handler<M> {
    const { auth, metrics, logger, tracing } = this;
    return unaryHandler(method, run, {
      auth,
      metrics,
      logger,
      tracing,
      timeoutMs: this.settings.timeout,
      maxHeaderBytes: this.settings.maxHeaderBytes,
      verifiesClients: () => this.verifiesClients,
    });
  }
}
