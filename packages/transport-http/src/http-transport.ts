import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  CONFIG,
  readTlsMaterial,
  vmWireView,
  inject,
  injectable,
  LOGGER,
  MANAGER_INFO,
  METRICS,
  policyJsonBytes,
  TRACING,
  VM_SERVICE,
  VmState,
  type Logger,
  type ManagerConfig,
  type ManagerInfo,
  type ManagerMetrics,
  type ManagerTracing,
  type SliceValues,
  type Transport,
  type VmApi,
  type VmStreamEvent,
} from '@cocos-manager/core';
import { fromFastifyRefusal, toHttpError } from './http-status.js';
import { createRequestFromJson } from './rest-body.js';
import { httpSettings } from './settings.js';

const SSE_KEEPALIVE_MS = 15_000;
const MAX_BODY_BYTES = 16 * 1024 * 1024;

type IdParams = { Params: { id: string } };

/**
 * The HTTP API: `/health`, `/metrics` (Prometheus), a JSON REST mirror of the
 * gRPC service, `/events` (server-sent events) and VM console logs.
 */
@injectable()
export class HttpTransport implements Transport {
  readonly name = 'http';
  private app: FastifyInstance | null = null;
  private boundPort = 0;
  private readonly streams = new Set<() => void>();
  private readonly settings: SliceValues<typeof httpSettings>['http'];

  constructor(
    @inject(VM_SERVICE) private readonly service: VmApi,
    @inject(CONFIG) config: ManagerConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(METRICS) private readonly metrics: ManagerMetrics,
    @inject(MANAGER_INFO) private readonly info: ManagerInfo,
    @inject(TRACING) private readonly tracing: ManagerTracing,
  ) {
    this.settings = config.read(httpSettings).http;
  }

  address(): string {
    return `${this.host()}:${this.boundPort}`;
  }

  port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const https = this.tlsOptions();
    const app = Fastify({ logger: false, bodyLimit: MAX_BODY_BYTES, ...(https ? { https } : {}) }) as unknown as FastifyInstance;
    this.routes(app);
    await app.listen({ host: this.host(), port: this.settings.port });
    this.boundPort = (app.server.address() as AddressInfo).port;
    this.app = app;
  }

  async stop(): Promise<void> {
    for (const close of this.streams) close();
    this.streams.clear();
    await this.app?.close();
    this.app = null;
  }

  private host(): string {
    return this.settings.host || '0.0.0.0';
  }

  private tlsOptions(): { key: Buffer; cert: Buffer; ca?: Buffer; requestCert?: boolean; rejectUnauthorized?: boolean } | null {
    const c = this.settings;
    const tls = readTlsMaterial(
      { cert: c.serverCert, key: c.serverKey, chain: c.serverCaCerts, clientCa: c.clientCaCerts },
      { cert: 'MANAGER_HTTP_SERVER_CERT', key: 'MANAGER_HTTP_SERVER_KEY', chain: 'MANAGER_HTTP_SERVER_CA_CERTS', clientCa: 'MANAGER_HTTP_CLIENT_CA_CERTS' },
    );
    if (!tls) return null;
    return tls.clientCa === null
      ? { key: tls.key, cert: tls.certChain }
      : { key: tls.key, cert: tls.certChain, ca: tls.clientCa, requestCert: true, rejectUnauthorized: true };
  }

  private routes(app: FastifyInstance): void {
    const s = this.service;
    // Every request runs in a server span continuing the caller's traceparent.
    app.addHook('onRequest', (request, _reply, done) => {
      const parent = this.tracing.extract(request.headers as Record<string, unknown>);
      void this.tracing.serve(`HTTP ${request.method} ${request.routeOptions.url ?? request.url}`, parent, (span) => {
        span.setAttribute('http.request.method', request.method);
        return new Promise<void>((resolve) => {
          request.raw.once('close', resolve);
          done();
        });
      });
    });
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.metrics.observeCall('http', `${request.method} ${route}`, String(reply.statusCode), reply.elapsedTime / 1000);
    });
    app.setErrorHandler((err, request, reply) => {
      const { status, body, unexpected } = toHttpError(fromFastifyRefusal(err));
      if (unexpected) this.logger.error({ err, method: request.method, url: request.url }, 'HTTP request failed unexpectedly');
      else if (status >= 500)
        this.logger.error({ code: body.error.code, error: body.error.message, method: request.method, url: request.url }, 'HTTP request failed');
      return reply.code(status).send(body);
    });

    app.get('/health', async () => ({
      status: 'pass',
      version: this.info.version,
      instance_id: this.info.instanceId,
      started_at: this.info.startedAt,
      description: 'cocos-manager',
      vms: s.list().length,
    }));
    app.get('/metrics', async (_request, reply) => reply.type(this.metrics.contentType()).send(await this.metrics.text()));

    app.post('/vms', async (request, reply) => {
      const started = performance.now();
      try {
        const vm = await s.create(createRequestFromJson(request.body));
        this.metrics.observeCreate((performance.now() - started) / 1000, true);
        return reply
          .code(201)
          .header('location', `/vms/${vm.id}`)
          .send({ cvm_id: vm.id, forwarded_port: String(vm.forwardedPort) });
      } catch (err) {
        this.metrics.observeCreate((performance.now() - started) / 1000, false);
        throw err;
      }
    });
    app.get('/vms', async () => ({ vms: s.list().map(vmWireView) }));
    app.get<IdParams>('/vms/:id', async (request) => vmWireView(await s.get(request.params.id)));
    app.delete<IdParams>('/vms/:id', async (request, reply) => {
      await s.remove(request.params.id);
      return reply.code(204).send();
    });
    app.get<IdParams>('/vms/:id/info', async (request) => {
      const info = s.cvmInfo(request.params.id);
      return {
        id: info.id,
        ovmf_version: info.ovmfVersion,
        cpu_num: info.cpuNum,
        cpu_type: info.cpuType,
        kernel_cmd: info.kernelCmd,
        eos_version: info.eosVersion,
      };
    });
    app.get<IdParams>('/vms/:id/attestation-policy', async (request, reply) =>
      reply.type('application/json').send(Buffer.from(policyJsonBytes(await s.attestationPolicyDocument(request.params.id)))),
    );
    app.get<IdParams & { Querystring: { follow?: string } }>('/vms/:id/console', async (request, reply) => {
      const id = request.params.id;
      const text = await s.consoleOutput(id); // 404 for an unknown id, before anything is streamed
      if (request.query.follow !== '1' && request.query.follow !== 'true') return reply.type('text/plain; charset=utf-8').send(text);
      this.stream(request, reply, 'text/plain; charset=utf-8', (write, end) => {
        write(text);
        const offConsole = s.onConsole((l) => l.vmId === id && write(`${l.line}\n`));
        const offEvent = s.onEvent((e) => {
          if (e.vmId === id && (e.state === VmState.Stopped || e.state === VmState.Failed)) end();
        });
        return () => {
          offConsole();
          offEvent();
        };
      });
    });
    app.get<{ Querystring: { vm?: string; console?: string } }>('/events', async (request, reply) => {
      const only = request.query.vm;
      const withConsole = request.query.console !== '0';
      this.stream(request, reply, 'text/event-stream', (write) => {
        write(': cocos-manager events\n\n');
        const send = (event: VmStreamEvent) => {
          if (only && event.vmId !== only) return;
          write(`event: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`);
        };
        const offs = [s.onEvent(send), ...(withConsole ? [s.onConsole(send)] : [])];
        const keepalive = setInterval(() => write(': keep-alive\n\n'), SSE_KEEPALIVE_MS);
        return () => {
          clearInterval(keepalive);
          offs.forEach((off) => off());
        };
      });
    });
  }

  /** A long-lived response: `open` subscribes and returns its unsubscribe; ends when either side does. */
  private stream(
    request: FastifyRequest,
    reply: FastifyReply,
    contentType: string,
    open: (write: (chunk: string) => void, end: () => void) => () => void,
  ): void {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let closed = false;
    let unsubscribe: () => void = () => undefined;
    const end = () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      this.streams.delete(end);
      res.end();
    };
    this.streams.add(end);
    unsubscribe = open((chunk) => !closed && res.write(chunk), end);
    request.raw.on('close', end);
  }
}
