import type { FastifyInstance, FastifyRequest } from 'fastify';
import { allows, type ApiAuth, type ApiOperation, type HttpPages, type ManagerInfo, type VmApi, type WireViews } from '@cocos-manager/core';
import { credentialsOf } from './request-policy.js';

/** The operation of a route that declared one in its config (page files: `health`, public). */
export function routeOperation(request: FastifyRequest): ApiOperation | undefined {
  return (request.routeOptions.config as { operation?: ApiOperation } | undefined)?.operation;
}

/** Serves each contribution's files under its prefix: public (operation `health`), with its own headers. */
export function registerPages(app: FastifyInstance, contributions: readonly HttpPages[]): void {
  for (const pages of contributions) {
    const config = { operation: 'health' as ApiOperation };
    app.get(pages.prefix, { config }, async (_request, reply) => reply.redirect(`${pages.prefix}/`));
    app.get<{ Params: { '*': string } }>(`${pages.prefix}/*`, { config }, async (request, reply) => {
      const file = await pages.file(request.params['*']);
      void reply.headers(pages.headers);
      if (!file) return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
      return reply.type(file.contentType).send(Buffer.from(file.body));
    });
  }
}

export interface HostRouteDeps {
  readonly service: VmApi;
  readonly info: ManagerInfo;
  readonly auth: ApiAuth;
  /** The VM devices' fields of the host status. */
  readonly views: WireViews;
  readonly restWrites: boolean;
}

/**
 * Read routes a browser needs besides the REST mirror: `/session` (who the
 * caller is, what it may do) and `/host` (the backend and its probe, VM slots,
 * port pool, and what the VM devices show of their pools).
 */
export function registerHostRoutes(app: FastifyInstance, d: HostRouteDeps): void {
  app.get('/session', async (request) => {
    const caller = d.auth.authorize(credentialsOf(request), 'list');
    return {
      identity: caller.identity,
      role: caller.role,
      via: caller.via,
      auth_enabled: d.auth.enabled,
      can_write: allows(caller.role, 'create') && d.restWrites,
      rest_writes: d.restWrites,
    };
  });
  app.get('/host', async () => {
    const status = await d.service.hostStatus();
    const own = {
      version: d.info.version,
      instance_id: d.info.instanceId,
      started_at: d.info.startedAt,
      backend: status.backend.name,
      probe: { available: status.backend.probe.available, reason: status.backend.probe.reason },
      kvm: status.kvm,
      vm_slots: status.vmSlots,
      port_pool: { in_use: status.ports.inUse, size: status.ports.size },
    };
    // The devices' fields after the host's own (which they cannot replace), then rest_writes.
    const devices = Object.entries(d.views.hostFields(status)).filter(([name]) => !(name in own) && name !== 'rest_writes');
    return { ...own, ...Object.fromEntries(devices), rest_writes: d.restWrites };
  });
}
