import {
  Server,
  ServerCredentials,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import {
  clientErrorOf,
  CONFIG,
  inject,
  injectable,
  LOGGER,
  ManagerError,
  METRICS,
  readTlsMaterial,
  TRACING,
  VM_SERVICE,
  vmWireView,
  type Logger,
  type ManagerConfig,
  type ManagerMetrics,
  type ManagerTracing,
  type SliceValues,
  type Transport,
  type VmApi,
  type VmStreamEvent,
} from '@cocos-manager/core';
import { loadManagerPackageDefinition, loadManagerProto, type ManagerStreamRpcs, type ManagerUnaryRpc, type ManagerUnaryRpcs } from '@cocos-manager/contract';
import { loadHealthPackageDefinition } from './proto.js';
import { grpcSettings } from './settings.js';
import { serviceErrorOf } from './status.js';
import { fromCreateReq } from './wire.js';

/** MANAGER_GRPC_TIMEOUT: a call still running after it is answered DEADLINE_EXCEEDED (the work itself goes on). */
function withTimeout<T>(work: Promise<T>, ms: number, method: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(ManagerError.deadlineExceeded(`${method} took longer than MANAGER_GRPC_TIMEOUT (${ms} ms); it may still complete, check ListVms`)),
      ms,
    );
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

type Request<M extends ManagerUnaryRpc> = ManagerUnaryRpcs[M]['request'];
type Response<M extends ManagerUnaryRpc> = ManagerUnaryRpcs[M]['response'];
type Handler<M extends ManagerUnaryRpc> = (call: ServerUnaryCall<Request<M>, Response<M>>, callback: sendUnaryData<Response<M>>) => void;
type WatchCall = ServerWritableStream<ManagerStreamRpcs['WatchEvents']['request'], ManagerStreamRpcs['WatchEvents']['response']>;

/** `manager.ManagerService` over gRPC, wire-compatible with the Go manager. */
@injectable()
export class GrpcTransport implements Transport {
  readonly name = 'grpc';
  private server: Server | null = null;
  private health: HealthImplementation | null = null;
  private boundPort = 0;
  private readonly settings: SliceValues<typeof grpcSettings>['grpc'];

  constructor(
    @inject(VM_SERVICE) private readonly service: VmApi,
    @inject(CONFIG) config: ManagerConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(METRICS) private readonly metrics: ManagerMetrics,
    @inject(TRACING) private readonly tracing: ManagerTracing,
  ) {
    this.settings = config.read(grpcSettings).grpc;
  }

  address(): string {
    return `${this.host()}:${this.boundPort}`;
  }

  /** The port actually bound (MANAGER_GRPC_PORT=0 picks a free one). */
  port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    // Large enough that an oversized certificate reaches request validation
    // (INVALID_ARGUMENT naming the field) instead of a bare transport error.
    const server = new Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });
    server.addService(loadManagerProto().ManagerService.service, this.handlers());
    // grpc.health.v1.Health: "" and the service report SERVING while we listen.
    this.health = new HealthImplementation({ '': 'SERVING', 'manager.ManagerService': 'SERVING' });
    this.health.addToServer(server);
    // Server reflection, so grpcurl-style tools work without the .proto.
    new ReflectionService({ ...loadManagerPackageDefinition(), ...loadHealthPackageDefinition() }).addToServer(server);
    const credentials = this.credentials();
    const port = this.settings.port;
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${this.host()}:${port}`, credentials, (err, bound) =>
        err ? reject(new Error(`gRPC cannot listen on ${this.host()}:${port}: ${err.message}`)) : resolve(bound),
      );
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.health?.setStatus('', 'NOT_SERVING');
    this.health?.setStatus('manager.ManagerService', 'NOT_SERVING');
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => server.forceShutdown(), 5000);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private host(): string {
    return this.settings.host || '0.0.0.0';
  }

  private credentials(): ServerCredentials {
    const c = this.settings;
    const tls = readTlsMaterial(
      { cert: c.serverCert, key: c.serverKey, chain: c.serverCaCerts, clientCa: c.clientCaCerts },
      { cert: 'MANAGER_GRPC_SERVER_CERT', key: 'MANAGER_GRPC_SERVER_KEY', chain: 'MANAGER_GRPC_SERVER_CA_CERTS', clientCa: 'MANAGER_GRPC_CLIENT_CA_CERTS' },
    );
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
      CVMInfo: this.unary('CVMInfo', async (req) => {
        const info = s.cvmInfo(req.id);
        return {
          id: info.id,
          ovmf_version: info.ovmfVersion,
          cpu_num: info.cpuNum,
          cpu_type: info.cpuType,
          kernel_cmd: info.kernelCmd,
          eos_version: info.eosVersion,
        };
      }),
      AttestationPolicy: this.unary('AttestationPolicy', async (req) => {
        const info = await s.attestationPolicy(req.id);
        return { info: Buffer.from(info), id: req.id };
      }),
      ListVms: this.unary('ListVms', async () => ({ vms: s.list().map(vmWireView) })),
      GetVm: this.unary('GetVm', async (req) => vmWireView(await s.get(req.id))),
      GetConsole: this.unary('GetConsole', async (req) => ({
        text: await s.consoleOutput(req.id, req.max_bytes > 0 ? Math.min(req.max_bytes, 4 * 1024 * 1024) : undefined),
      })),
      WatchEvents: (call: WatchCall) => this.watch(call),
    };
  }

  /** WatchEvents: streams lifecycle events (and console lines) until the client goes away. */
  private watch(call: WatchCall): void {
    const { vm_id: vmId, lifecycle_only: lifecycleOnly } = call.request;
    this.metrics.observeCall('grpc', 'WatchEvents', 'OK', 0);
    const send = (event: VmStreamEvent) => {
      if (vmId !== '' && event.vmId !== vmId) return;
      call.write(
        event.kind === 'lifecycle'
          ? { kind: 'lifecycle', vm_id: event.vmId, state: event.state, previous_state: event.previous ?? '', detail: event.detail, line: '', at: event.at }
          : { kind: 'console', vm_id: event.vmId, state: '', previous_state: '', detail: '', line: event.line, at: event.at },
      );
    };
    const unsubscribe = [this.service.onEvent(send), ...(lifecycleOnly ? [] : [this.service.onConsole(send)])];
    const end = () => unsubscribe.forEach((u) => u());
    call.on('cancelled', end);
    call.on('close', end);
    call.on('error', end);
  }

  private unary<M extends ManagerUnaryRpc>(method: M, run: (req: Request<M>) => Promise<Response<M>>): Handler<M> {
    const timeoutMs = this.settings.timeout;
    // Only calls that wait on VMs can outlive MANAGER_GRPC_TIMEOUT; reads answer from memory.
    const timed = method === 'CreateVm' || method === 'RemoveVm' || method === 'AttestationPolicy';
    const spanName = `manager.ManagerService/${method}`;
    // Resolved once per method, not per call: this wrapper is on every request's path.
    const okCall = this.metrics.callObserver('grpc', method, 'OK');
    const debug = this.logger.isLevelEnabled('debug');
    return (call, callback) => {
      const started = performance.now();
      const traced = this.tracing.wanted(call.metadata.get('traceparent').length > 0)
        ? this.tracing.serve(spanName, this.tracing.extract(call.metadata.getMap()), (span) => {
            span.setAttribute('rpc.system', 'grpc');
            return run(call.request);
          })
        : run(call.request);
      (timed ? withTimeout(traced, timeoutMs, method) : traced).then(
        (res) => {
          const seconds = (performance.now() - started) / 1000;
          okCall(seconds);
          if (debug) this.logger.debug({ method, ms: +(seconds * 1000).toFixed(2) }, 'gRPC call');
          callback(null, res);
        },
        (err: unknown) => {
          const failure = clientErrorOf(err);
          this.metrics.observeCall('grpc', method, failure.code, (performance.now() - started) / 1000);
          if (failure.unexpected) this.logger.error({ method, err }, 'gRPC call failed unexpectedly');
          else this.logger.info({ method, code: failure.code, error: failure.message }, 'gRPC call failed');
          callback(serviceErrorOf(failure));
        },
      );
    };
  }
}
