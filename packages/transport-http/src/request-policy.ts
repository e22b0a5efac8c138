import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { ManagerError, type ApiOperation, type ClientCertificate, type Credentials } from '@cocos-manager/core';

/** Each route's API operation (HEAD as GET); a route missing here needs the admin role (fail closed). */
const OPERATIONS: Readonly<Record<string, ApiOperation>> = {
  'GET /health': 'health',
  'GET /metrics': 'health',
  'GET /vms': 'list',
  'POST /vms': 'create',
  'GET /vms/:id': 'get',
  'DELETE /vms/:id': 'remove',
  'GET /vms/:id/info': 'info',
  'GET /vms/:id/attestation-policy': 'policy',
  'GET /vms/:id/console': 'console',
  'GET /vms/:id/agent': 'console',
  'GET /events': 'events',
  'GET /session': 'list',
  'GET /host': 'list',
};

/** Methods whose body a browser could send cross-site; they must carry JSON. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const LOOPBACK_NAMES = new Set(['localhost']);
const WILDCARDS = new Set(['', '0.0.0.0', '::', '[::]']);

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');

/** The API operation of a matched route. */
export function operationOf(method: string, routeUrl: string): ApiOperation {
  return OPERATIONS[`${method === 'HEAD' ? 'GET' : method} ${routeUrl}`] ?? 'create';
}

/** The host name of a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`), lower case; null when it is none. */
export function hostOf(header: string): string | null {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::\d{1,5})?$/i.exec(header.trim());
  return m?.[1] ? m[1].toLowerCase() : null;
}

/**
 * What a browser on the host could make this server do, refused before any
 * handler: a Host header that names no host of ours (DNS rebinding), an
 * Origin that is not configured (no browser page may call the API, reads
 * included), a body-carrying request without a JSON content type (a form
 * POST or a no-cors fetch). DELETE needs no content type: a browser sends a
 * cross-site DELETE only after a CORS preflight, which this server never grants.
 */
export class BrowserPolicy {
  private readonly hosts: ReadonlySet<string>;
  private readonly origins: ReadonlySet<string>;
  private readonly sameOrigin: boolean;

  /** `sameOrigin`: a request whose Origin is this very server (its scheme and allowed Host) is served too. */
  constructor(settings: { readonly host: string; readonly allowedHosts: string; readonly allowedOrigins: string; readonly sameOrigin?: boolean }) {
    const bind = settings.host.trim().toLowerCase();
    this.hosts = new Set([...LOOPBACK_NAMES, ...list(settings.allowedHosts), ...(WILDCARDS.has(bind) ? [] : [bind])]);
    this.origins = new Set(list(settings.allowedOrigins));
    this.sameOrigin = settings.sameOrigin ?? false;
  }

  /** The refusal of `request`, or null when it may go on. */
  refusalOf(request: FastifyRequest): ManagerError | null {
    const header = request.headers.host;
    const host = header === undefined ? null : hostOf(header);
    if (host === null || !this.hostAllowed(host)) {
      return new ManagerError(
        'HOST_NOT_ALLOWED',
        `the Host header ${JSON.stringify(header ?? '')} names no host of this manager; expected localhost, an IP address or a host of MANAGER_HTTP_ALLOWED_HOSTS`,
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !this.origins.has(origin.trim().toLowerCase()) && !this.isSameOrigin(request, origin)) {
      return new ManagerError(
        'ORIGIN_NOT_ALLOWED',
        `requests from the browser origin ${JSON.stringify(origin)} are refused; allowed origins are set with MANAGER_HTTP_ALLOWED_ORIGINS`,
      );
    }
    if (BODY_METHODS.has(request.method) && !request.is404) {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') {
        return new ManagerError(
          'UNSUPPORTED_MEDIA_TYPE',
          `${request.method} needs Content-Type: application/json (got ${type ? JSON.stringify(type) : 'none'})`,
        );
      }
    }
    return null;
  }

  /** The Host was checked above, so an Origin equal to scheme://Host is a page this server served (no rebinding). */
  private isSameOrigin(request: FastifyRequest, origin: string): boolean {
    return this.sameOrigin && origin.trim().toLowerCase() === `${request.protocol}://${(request.headers.host ?? '').trim().toLowerCase()}`;
  }

  private hostAllowed(host: string): boolean {
    // An IP literal cannot be a rebound DNS name: a page sending it is at that address itself.
    const bare = host.startsWith('[') ? host.slice(1, -1) : host;
    return this.hosts.has(host) || isIP(bare) !== 0;
  }
}

/** The bearer token and verified client certificate a request carries (never logged). */
export function credentialsOf(request: FastifyRequest): Credentials {
  const header = request.headers.authorization;
  // A malformed Authorization header is no token at all: the call is then unauthenticated.
  const bearer = header === undefined ? null : (/^Bearer +([^\s]+) *$/i.exec(header)?.[1] ?? '');
  const socket = request.raw.socket as Partial<TLSSocket>;
  let certificate: ClientCertificate | null = null;
  if (socket.authorized === true && typeof socket.getPeerCertificate === 'function') {
    const peer = socket.getPeerCertificate();
    if (peer && Object.keys(peer).length > 0) certificate = peer as ClientCertificate;
  }
  return { bearer, certificate };
}
