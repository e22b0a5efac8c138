import type { Server } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  AUTHENTICATOR,
  CONFIG,
  CONNECTION_GUARD,
  POLICY_ENCODER,
  HTTP_PAGES,
  inject,
  injectable,
  injectAll,
  LOGGER,
  MANAGER_INFO,
  ManagerError,
  METRICS,
  readTlsMaterial,
  TRACING,
  VM_SERVICE,
  WIRE_VIEWS,
  type ApiAuth,
  type HttpPages,
  type ConnectionGuard,
  type PolicyEncoder,
  type Logger,
  type ManagerConfig,
  type ManagerInfo,
  type ManagerMetrics,
  type ManagerTracing,
  type SliceValues,
  type Transport,
  type VmApi,
  type WireViews,
} from '@cocos-manager/core';
import { BoundedStreams } from './bounded-streams.js';
import { ConnectionGate, type ServerTls } from './connection-gate.js';
import { fromFastifyRefusal, toHttpError } from './http-status.js';
import { BrowserPolicy, credentialsOf, operationOf } from './request-policy.js';
import { registerHostRoutes, registerPages, routeOperation } from './page-routes.js';
import { registerOpenApi } from './openapi/openapi.js';
import { registerRoutes } from './rest-routes.js';
import { httpSettings } from './settings.js';

/** Bodies of requests other than POST /vms (which has its own, computed limit): none is expected. */
const DEFAULT_BODY_LIMIT = 16 * 1024;

/**
 * The HTTP API: `/health`, `/metrics` (Prometheus), a JSON REST mirror of the
 * gRPC service, `/events` (server-sent events) and VM console logs. Every
 * connection passes the connection gate (guests refused), every request the
 * browser policy and authentication before any handler.
 */
@injectable()
export class HttpTransport implements Transport {
  readonly name = 'http';
  private app: FastifyInstance | null = null;
  private gate: ConnectionGate | null = null;
  private boundPort = 0;
  private readonly settings: SliceValues<typeof httpSettings>['http'];
  private readonly streams: BoundedStreams;
  private readonly browser: BrowserPolicy;

  constructor(
    @inject(VM_SERVICE) private readonly service: VmApi,
    @inject(CONFIG) private readonly config: ManagerConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(METRICS) private readonly metrics: ManagerMetrics,
    @inject(MANAGER_INFO) private readonly info: ManagerInfo,
    @inject(TRACING) private readonly tracing: ManagerTracing,
    @inject(AUTHENTICATOR) private readonly auth: ApiAuth,
    @inject(CONNECTION_GUARD) private readonly guard: ConnectionGuard,
    @inject(POLICY_ENCODER) private readonly policies: PolicyEncoder,
    @inject(WIRE_VIEWS) private readonly views: WireViews,
    @injectAll(HTTP_PAGES, { isOptional: true }) private readonly pages: HttpPages[],
  ) {
    this.settings = this.config.read(httpSettings).http;
    this.streams = new BoundedStreams({ maxStreams: this.settings.maxStreams, backlogBytes: this.settings.streamBacklogBytes }, metrics, logger);
    // Pages served from this manager's own origin call the API from there: same-origin requests are theirs.
    this.browser = new BrowserPolicy({ ...this.settings, sameOrigin: this.pages.length > 0 });
  }

  address(): string {
    const host = this.settings.host === '' ? '0.0.0.0' : this.settings.host;
    return `${host}:${this.boundPort}`;
  }

  port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const s = this.settings;
    const gate = new ConnectionGate(this.guard, this.metrics, this.logger, this.tlsOptions(), {
      requestTimeout: s.readTimeout,
      // As Go's effective behaviour: the headers are part of the request, so the read timeout bounds them too.
      headersTimeout: Math.min(s.readHeaderTimeout, s.readTimeout),
      keepAliveTimeout: s.idleTimeout,
      maxHeaderSize: s.maxHeaderBytes,
      maxConnections: s.maxConnections,
    });
    const app = Fastify({ logger: false, bodyLimit: DEFAULT_BODY_LIMIT, serverFactory: gate.serverFactory }) as unknown as FastifyInstance;
    this.hooks(app);
    await registerOpenApi(app, this.info, this.views.schemas);
    registerRoutes(app, {
      service: this.service,
      metrics: this.metrics,
      info: this.info,
      streams: this.streams,
      restWrites: s.restWrites,
      policies: this.policies,
      views: this.views,
    });
    registerHostRoutes(app, {
      service: this.service,
      info: this.info,
      auth: this.auth,
      views: this.views,
      restWrites: s.restWrites,
    });
    registerPages(app, this.pages);
    await app.ready();
    this.gate = gate;
    this.app = app;
    this.boundPort = await gate.listen(app.server as Server, s.host, s.port);
  }

  async stop(): Promise<void> {
    this.streams.closeAll();
    await this.gate?.close();
    await this.app?.close();
    this.gate = null;
    this.app = null;
  }

  private tlsOptions(): ServerTls | null {
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

  private hooks(app: FastifyInstance): void {
    // First, before any handler or body parsing: browser checks, then who is calling.
    app.addHook('onRequest', (request, _reply, done) => {
      const refusal = this.browser.refusalOf(request);
      if (refusal) return done(refusal);
      if (request.is404) return done();
      try {
        this.auth.authorize(credentialsOf(request), routeOperation(request) ?? operationOf(request.method, request.routeOptions.url ?? ''));
      } catch (err) {
        return done(err as Error);
      }
      done();
    });
    // Write timeout (Go WriteTimeout): a response not finished in time loses its connection. Streams are
    // exempt, and so are create and remove, which take as long as the VM's start or stop may (their own timeouts).
    app.addHook('onRequest', (request, reply, done) => {
      const operation = operationOf(request.method, request.routeOptions.url ?? '');
      if (!request.is404 && (operation === 'create' || operation === 'remove')) return done();
      const timer = setTimeout(() => {
        if (!this.streams.holds(reply.raw)) request.raw.socket?.destroy();
      }, this.settings.writeTimeout);
      timer.unref();
      const stop = () => clearTimeout(timer);
      reply.raw.once('finish', stop);
      reply.raw.once('close', stop);
      done();
    });
    // Every request runs in a server span continuing the caller's traceparent.
    app.addHook('onRequest', (request, _reply, done) => {
      const parent = this.tracing.extract(request.headers as Record<string, unknown>);
      this.tracing
        .serve(`HTTP ${request.method} ${request.routeOptions.url ?? request.url}`, parent, (span) => {
          span.setAttribute('http.request.method', request.method);
          return new Promise<void>((resolve) => {
            request.raw.once('close', resolve);
            done();
          });
        })
        .catch((err: unknown) => this.logger.debug({ err }, 'request span failed'));
    });
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      this.metrics.observeCall('http', `${request.method} ${route}`, String(reply.statusCode), reply.elapsedTime / 1000);
    });
    app.setNotFoundHandler(async (request) => {
      const path = (request.url.split('?')[0] ?? '').slice(0, 200);
      const write = (request.method === 'POST' && path === '/vms') || (request.method === 'DELETE' && /^\/vms\/[^/]+$/.test(path));
      const hint = write && !this.settings.restWrites ? "; the REST mirror's writes are off (MANAGER_HTTP_REST_WRITES=true turns them on)" : '';
      throw new ManagerError('ROUTE_NOT_FOUND', `no route ${request.method} ${path}${hint}`);
    });
    app.setErrorHandler((err, request, reply) => {
      const { status, body, unexpected } = toHttpError(fromFastifyRefusal(err));
      const detail = err instanceof ManagerError ? err.detail : undefined;
      if (unexpected) this.logger.error({ err, method: request.method, url: request.url }, 'HTTP request failed unexpectedly');
      else if (status >= 500 || detail)
        this.logger.error({ code: body.error.code, error: body.error.message, detail, method: request.method, url: request.url }, 'HTTP request failed');
      if (status === 401) void reply.header('www-authenticate', 'Bearer realm="cocos-manager"');
      return reply.code(status).send(body);
    });
  }
}
