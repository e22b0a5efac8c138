import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  coreSettings,
  GPU_DEVICE,
  allows,
  type ApiAuth,
  type ApiOperation,
  type HostFiles,
  type HttpPages,
  type ManagerConfig,
  type ManagerInfo,
  type VmApi,
} from '@cocos-manager/core';
import { type BackendChoice } from '@cocos-manager/core/internal';
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
  readonly config: ManagerConfig;
  readonly backends: BackendChoice;
  readonly host: HostFiles;
  readonly restWrites: boolean;
}

/**
 * Read routes a browser needs besides the REST mirror: `/session` (who the
 * caller is, what it may do) and `/host` (the backend and its probe, VM slots, port pool).
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
  let probe: Promise<{ available: boolean; reason: string }> | null = null;
  app.get('/host', async () => {
    const settings = d.config.read(coreSettings);
    const backend = d.backends.current();
    // The probe reads /proc and /sys: once is enough, the host does not change under a running manager.
    probe ??= backend.probe(d.host).catch((err: unknown) => ({ available: false, reason: String(err) }));
    const ports = d.service.portUsage();
    const vms = d.service.list();
    const gpus = vms.flatMap((vm) => (vm.devices ?? []).filter((x) => x.device === GPU_DEVICE).map((x) => x.values['bdf'] ?? ''));
    // The GPU plugin's pool, by its setting's name: absent when no GPU plugin is loaded.
    const pool = d.config.toEnvRecord()['MANAGER_QEMU_GPU_BDF'];
    return {
      version: d.info.version,
      instance_id: d.info.instanceId,
      started_at: d.info.startedAt,
      backend: backend.name,
      probe: await probe,
      kvm: settings.qemu.enableKvm,
      vm_slots: { used: vms.length, size: settings.manager.maxVms },
      port_pool: { in_use: ports.inUse, size: ports.size },
      gpus_in_use: gpus,
      gpu_pool:
        pool === undefined
          ? null
          : pool
              .split(',')
              .map((b) => b.trim())
              .filter((b) => b !== ''),
      rest_writes: d.restWrites,
    };
  });
}
