import { agentMessageJson } from './agent-json.js';
import type { FastifyInstance } from 'fastify';
import {
  cvmInfoWire,
  parsePolicyFormat,
  VmState,
  type AttestationPolicyFormat,
  type ManagerInfo,
  type ManagerMetrics,
  type PolicyEncoder,
  type VmApi,
  type VmStreamEvent,
  type WireViews,
  ManagerError,
} from '@cocos-manager/core';
import type { BoundedStreams } from './bounded-streams.js';
import { createRequestFromJson, MAX_CREATE_BODY_BYTES } from './rest-body.js';

const SSE_KEEPALIVE_MS = 15_000;

type IdParams = { Params: { id: string } };

/** ?page_size as a number: decimal digits, or absent (0). */
function pageSizeOf(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^[0-9]{1,9}$/.test(text))
    throw new ManagerError('REQUEST_FIELD_INVALID', `page_size "${text.slice(0, 40)}" is invalid: a count of VMs (0 to 1000) is expected`);
  return Number(text);
}

export interface RouteDeps {
  readonly service: VmApi;
  readonly metrics: ManagerMetrics;
  readonly info: ManagerInfo;
  readonly streams: BoundedStreams;
  /** Whether POST /vms and DELETE /vms/:id exist (MANAGER_HTTP_REST_WRITES). */
  readonly restWrites: boolean;
  readonly policies: PolicyEncoder;
  /** VMs as the APIs show them, with the VM devices' fields. */
  readonly views: WireViews;
}

/** `?format=corim|json`, or the manager's default when absent. */
function policyFormat(value: string | undefined): AttestationPolicyFormat | undefined {
  return parsePolicyFormat(value, 'format');
}

/** `/health`, `/metrics`, the JSON REST mirror of the gRPC service, `/events` (SSE) and VM consoles. */
export function registerRoutes(app: FastifyInstance, { service: s, metrics, info, streams, restWrites, policies, views }: RouteDeps): void {
  // The Go manager's health answer (supermq's handler: its content type and fields), plus ours.
  app.get('/health', async (_request, reply) =>
    reply.type('application/health+json').send({
      status: 'pass',
      version: info.version,
      commit: info.commit,
      description: 'manager service',
      build_time: info.buildTime,
      instance_id: info.instanceId,
      started_at: info.startedAt,
      vms: s.list().length,
    }),
  );
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType()).send(await metrics.text()));

  if (restWrites) {
    app.post('/vms', { bodyLimit: MAX_CREATE_BODY_BYTES }, async (request, reply) => {
      const started = performance.now();
      try {
        const vm = await s.create(createRequestFromJson(request.body));
        metrics.observeCreate((performance.now() - started) / 1000, true);
        return reply
          .code(201)
          .header('location', `/vms/${vm.id}`)
          .send({ cvm_id: vm.id, forwarded_port: String(vm.forwardedPort) });
      } catch (err) {
        metrics.observeCreate((performance.now() - started) / 1000, false);
        throw err;
      }
    });
    app.delete<IdParams>('/vms/:id', async (request, reply) => {
      await s.remove(request.params.id);
      return reply.code(204).send();
    });
  }
  app.get<{ Querystring: { page_size?: string; page_token?: string } }>('/vms', async (request) => {
    const { page_size: size, page_token: token } = request.query;
    if (size === undefined && token === undefined) return { vms: s.list().map((vm) => views.vm(vm)) };
    if (token !== undefined && typeof token !== 'string') throw new ManagerError('PAGE_TOKEN_INVALID', 'page_token is given more than once: one is expected');
    const page = s.listPage(pageSizeOf(size), token ?? '');
    return { vms: page.vms.map((vm) => views.vm(vm)), next_page_token: page.nextPageToken };
  });
  app.get<IdParams>('/vms/:id', async (request) => views.vm(await s.get(request.params.id)));
  app.get<IdParams>('/vms/:id/info', async (request) => {
    return cvmInfoWire(s.cvmInfo(request.params.id));
  });
  app.get<IdParams & { Querystring: { format?: string } }>('/vms/:id/attestation-policy', async (request, reply) => {
    const format = policyFormat(request.query.format);
    const bytes = await s.attestationPolicy(request.params.id, format);
    return reply.type(policies.contentType(format)).send(Buffer.from(bytes));
  });
  app.get<IdParams & { Querystring: { follow?: string } }>('/vms/:id/console', async (request, reply) => {
    const id = request.params.id;
    const text = await s.consoleOutput(id); // 404 for an unknown id, before anything is streamed
    if (request.query.follow !== '1' && request.query.follow !== 'true') return reply.type('text/plain; charset=utf-8').send(text);
    return streams.start(request, reply, 'console', 'text/plain; charset=utf-8', (write, end) => {
      // The tail may end inside a line: live lines start on a line of their own.
      write(text === '' || text.endsWith('\n') ? text : `${text}\n`);
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
  app.get<IdParams>('/vms/:id/agent', async (request) => ({ messages: s.agentMessages(request.params.id).map(agentMessageJson) }));
  app.get<{ Querystring: { vm?: string; console?: string; agent?: string } }>('/events', async (request, reply) => {
    const only = request.query.vm;
    const withConsole = request.query.console !== '0';
    const withAgent = request.query.agent !== '0';
    return streams.start(request, reply, 'events', 'text/event-stream', (write) => {
      write(': cocos-manager events\n\n');
      const send = (event: VmStreamEvent) => {
        if (only && event.vmId !== only) return;
        const data = event.kind === 'agent' ? agentMessageJson(event) : event;
        write(`event: ${event.kind}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const offs = [s.onEvent(send), ...(withConsole ? [s.onConsole(send)] : []), ...(withAgent ? [s.onAgent(send)] : [])];
      const keepalive = setInterval(() => write(': keep-alive\n\n'), SSE_KEEPALIVE_MS);
      return () => {
        clearInterval(keepalive);
        offs.forEach((off) => off());
      };
    });
  });
}
