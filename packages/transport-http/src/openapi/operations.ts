import { POLICY_FORMATS } from './schemas.js';

/**
 * The description of each route of the HTTP API, in @fastify/swagger's route
 * schema form, by `METHOD url` as Fastify has it. /openapi.json is generated
 * from the routes the server really has: one missing here is an error there
 * (openapi.ts), not a route left out silently.
 */
export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly params?: object;
  readonly querystring?: object;
  readonly body?: object;
  readonly response: Readonly<Record<string, object>>;
}

const ref = (name: string) => ({ $ref: `${name}#` });
const json = (name: string, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
const failure = { default: json('Error', 'Any failure: 4xx for a bad or refused request, 5xx for the host or the manager') };
const vmId = { type: 'object', properties: { id: { type: 'string', description: 'the VM id (a UUID)' } }, required: ['id'] };
const textBody = (description: string, mediaType = 'text/plain') => ({ description, content: { [mediaType]: { schema: { type: 'string' } } } });
const boolFlag = (description: string) => ({ type: 'string', enum: ['1', 'true', '0', 'false'], description });

export const ROUTE_DOCS: Readonly<Record<string, RouteDoc>> = {
  'GET /health': {
    summary: 'Health',
    description: 'Public (no credentials): liveness probes.',
    tags: ['observability'],
    response: { 200: { description: 'The manager serves', content: { 'application/health+json': { schema: ref('Health') } } }, ...failure },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics',
    description: 'Public (no credentials): the text exposition format.',
    tags: ['observability'],
    response: { 200: textBody('Every series of this manager'), ...failure },
  },
  'GET /openapi.json': {
    summary: 'This description',
    description: 'Public (no credentials).',
    tags: ['observability'],
    response: { 200: { description: 'The OpenAPI 3.1 document of this server', content: { 'application/json': { schema: { type: 'object' } } } }, ...failure },
  },
  'GET /vms': {
    summary: 'List the VMs (ListVms)',
    description: 'Without page_size or page_token: every VM. A page holds VMs oldest first (ties by id); pass its next_page_token for the next.',
    tags: ['vms'],
    querystring: {
      type: 'object',
      properties: {
        page_size: { type: 'string', pattern: '^[0-9]+$', description: 'at most this many VMs (above 1000: 1000); 0: all that are left' },
        page_token: { type: 'string', description: 'the next_page_token of the previous page' },
      },
    },
    response: { 200: json('VmList', 'Every VM, or a page of them'), ...failure },
  },
  'POST /vms': {
    summary: 'Create a VM (CreateVm)',
    description: 'Only with MANAGER_HTTP_REST_WRITES=true; the body must be JSON. Answers once QEMU runs.',
    tags: ['vms'],
    body: ref('CreateVmRequest'),
    response: {
      201: {
        ...json('CreatedVm', 'Created: the VM runs'),
        headers: { location: { type: 'string', description: 'the new VM: /vms/<id>' } },
      },
      ...failure,
    },
  },
  'GET /vms/:id': { summary: 'One VM (GetVm)', tags: ['vms'], params: vmId, response: { 200: json('Vm', 'The VM'), ...failure } },
  'DELETE /vms/:id': {
    summary: 'Remove a VM (RemoveVm)',
    description: 'Only with MANAGER_HTTP_REST_WRITES=true. Answers once QEMU is gone.',
    tags: ['vms'],
    params: vmId,
    response: { 204: { type: 'null', description: 'Removed: no body' }, ...failure },
  },
  'GET /vms/:id/info': { summary: 'CVM info (CVMInfo)', tags: ['vms'], params: vmId, response: { 200: json('CvmInfo', 'Its CVM info'), ...failure } },
  'GET /vms/:id/attestation-policy': {
    summary: 'The attestation policy of a VM (AttestationPolicy)',
    description: 'A CoRIM (COSE_Sign1-signed when MANAGER_CORIM_SIGNING_KEY is set) or the JSON policy; SEV-SNP and TDX VMs only.',
    tags: ['vms'],
    params: vmId,
    querystring: {
      type: 'object',
      properties: { format: { type: 'string', enum: POLICY_FORMATS, description: "the encoding; absent: the manager's default" } },
    },
    response: {
      200: {
        description: 'The policy',
        content: {
          'application/rim+cbor': { schema: { type: 'string', contentMediaType: 'application/rim+cbor' } },
          'application/rim+cose': { schema: { type: 'string', contentMediaType: 'application/rim+cose' } },
          'application/json': { schema: { type: 'object' } },
        },
      },
      ...failure,
    },
  },
  'GET /vms/:id/console': {
    summary: "A VM's console output",
    tags: ['vms'],
    params: vmId,
    querystring: { type: 'object', properties: { follow: boolFlag('1 or true: stream new lines until the VM stops') } },
    response: { 200: textBody('What the guest wrote to its console (streamed with follow)'), ...failure },
  },
  'GET /vms/:id/agent': {
    summary: "What a VM's agent said",
    description:
      'The latest logs and events of its agent over the agent channel (MANAGER_AGENT_CHANNEL), oldest first: a bounded history (200 messages, 256 KiB).',
    tags: ['vms'],
    params: vmId,
    response: { 200: json('AgentMessageList', 'Its agent messages'), ...failure },
  },
  'GET /events': {
    summary: 'Server-sent events (WatchEvents)',
    description:
      "Each VM state change (event: lifecycle), unless console=0 each console line (event: console), and unless agent=0 each log and event of a VM's agent (event: agent, data an AgentMessage); data is the event as JSON.",
    tags: ['vms'],
    querystring: {
      type: 'object',
      properties: {
        vm: { type: 'string', description: "one VM's events only" },
        console: boolFlag('0: no console lines'),
        agent: boolFlag('0: no agent messages'),
      },
    },
    response: { 200: textBody('An event stream', 'text/event-stream'), ...failure },
  },
  'GET /session': { summary: 'Who the caller is', tags: ['console'], response: { 200: json('Session', 'The caller'), ...failure } },
  'GET /host': { summary: 'This host', tags: ['console'], response: { 200: json('Host', 'The host as this manager sees it'), ...failure } },
};
