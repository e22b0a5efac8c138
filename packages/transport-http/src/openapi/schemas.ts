import { ATTESTATION_POLICY_FORMATS, ERROR_CATALOGUE, ErrorCode, PEM_FIELDS, TEXT_FIELDS, VmState, type WireViews } from '@cocos-manager/core';

/**
 * The JSON bodies of the HTTP API as JSON Schema (2020-12, OpenAPI 3.1's
 * dialect), each with its `$id`: the component name in /openapi.json. Response
 * objects admit no other property, so a field the code sends and the
 * description lacks fails the e2e checks (apps/manager/test/openapi-check.ts).
 * Enumerations come from core, where the values are defined; the fields VM
 * devices add to a VM and to the host status come from the devices.
 */
const text = { type: 'string' } as const;
const timestamp = { type: 'string', format: 'date-time' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const strict = <P extends Record<string, unknown>>(properties: P, description: string, optional: readonly string[] = []) => ({
  type: 'object',
  description,
  properties,
  required: Object.keys(properties).filter((name) => !optional.includes(name)),
  additionalProperties: false,
});

export const ErrorBody = {
  $id: 'Error',
  ...strict(
    {
      error: strict(
        {
          code: { type: 'string', enum: Object.values(ErrorCode), description: "the gRPC status name of the failure (core's error catalogue)" },
          reason: {
            type: 'string',
            enum: Object.keys(ERROR_CATALOGUE),
            description: 'the stable code of this one failure (docs/errors.md): what a client branches on, never the message',
          },
          message: { type: 'string', description: 'what was wrong and what is expected, after the stable code (`VM_NOT_FOUND: …`)' },
          field: { type: 'string', description: 'the CreateReq field the failure is about, when it is about one (`ttl`, `aa_kbs_params`…)' },
        },
        'the failure',
        ['field'],
      ),
    },
    'Every failure: the HTTP status says its kind, `code` the same as the gRPC API would, `reason` which failure it is.',
  ),
};

/** The devices' fields of each view (WireViews.schemas). */
type DeviceSchemas = WireViews['schemas'];

const vm = (devices: DeviceSchemas) => ({
  $id: 'Vm',
  ...strict(
    {
      id: { type: 'string', format: 'uuid' },
      state: { type: 'string', enum: Object.values(VmState) },
      forwarded_port: { type: 'string', pattern: '^[0-9]+$', description: "the host port forwarded to the agent's port 7002" },
      pid: { ...count, description: 'QEMU process id; 0 when none runs' },
      backend: { type: 'string', description: 'the TEE backend (plain, sev-snp, tdx, …)' },
      boot: { type: 'string', description: 'the boot strategy (ram, disk, …)' },
      created_at: timestamp,
      ttl_deadline: { anyOf: [timestamp, { const: '' }], description: 'when the TTL removes it; empty without a TTL' },
      exit: {
        description: 'why QEMU exited; null while it runs',
        anyOf: [{ type: 'null' }, strict({ code: { type: 'integer' }, signal: text, reason: text }, 'the exit of QEMU')],
      },
      guest_status: { type: 'string', description: 'what the guest last reported (agent channel); empty when nothing' },
      adopted: { type: 'boolean', description: 'whether this manager re-adopted it from an earlier one' },
      ...devices.vm,
      state_write_error: {
        type: 'string',
        description: "why the VM's latest state is not on disk while the manager retries the write; empty when its record is saved",
      },
    },
    'A VM as GetVm returns it.',
  ),
});

export const VmList = {
  $id: 'VmList',
  ...strict(
    {
      vms: { type: 'array', items: { $ref: 'Vm#' } },
      next_page_token: { type: 'string', description: "the next page's page_token; empty after the last page. Only when a page was asked for" },
    },
    'Every VM of this manager, or one page of them (?page_size, ?page_token).',
    ['next_page_token'],
  ),
};

export const CvmInfo = {
  $id: 'CvmInfo',
  ...strict(
    { id: { type: 'string', format: 'uuid' }, ovmf_version: text, cpu_num: count, cpu_type: text, kernel_cmd: text, eos_version: text },
    "CVM info (the Go manager's CVMInfoRes fields).",
  ),
};

export const CreateVmRequest = {
  $id: 'CreateVmRequest',
  type: 'object',
  description: 'CreateReq under its wire names, every field optional; the PEM files as base64. Unknown fields are refused.',
  properties: {
    ...Object.fromEntries(TEXT_FIELDS.map(({ wire }) => [wire, text])),
    ...Object.fromEntries(PEM_FIELDS.map(({ wire }) => [wire, { type: 'string', contentEncoding: 'base64' }])),
  },
  additionalProperties: false,
};

export const CreatedVm = {
  $id: 'CreatedVm',
  ...strict({ cvm_id: { type: 'string', format: 'uuid' }, forwarded_port: { type: 'string', pattern: '^[0-9]+$' } }, 'CreateRes.'),
};

export const Health = {
  $id: 'Health',
  ...strict(
    {
      status: { const: 'pass' },
      version: text,
      commit: text,
      description: text,
      build_time: text,
      instance_id: text,
      started_at: timestamp,
      vms: count,
    },
    "The Go manager's health answer, plus this manager's instance, start time and VM count.",
  ),
};

const agentCommon = {
  vmId: { type: 'string', format: 'uuid' },
  at: timestamp,
  computationId: text,
  timestamp: { type: ['string', 'null'], description: "the agent's own time; null when it sent none" },
};

export const AgentMessage = {
  $id: 'AgentMessage',
  description: "A log or an event a VM's agent sent over its agent channel (seeds/002's AgentLog and AgentEvent), as the guest sent it.",
  oneOf: [
    strict({ ...agentCommon, kind: { const: 'log' }, level: text, message: text }, 'An agent log line.'),
    strict(
      {
        ...agentCommon,
        kind: { const: 'event' },
        eventType: text,
        status: text,
        originator: text,
        details: { type: 'string', description: 'JSON by the agent convention, as text' },
      },
      'An agent event.',
    ),
  ],
};

export const AgentMessageList = {
  $id: 'AgentMessageList',
  ...strict({ messages: { type: 'array', items: { $ref: 'AgentMessage#' } } }, "A VM's latest agent messages, oldest first."),
};

export const Session = {
  $id: 'Session',
  ...strict(
    {
      identity: text,
      role: { type: 'string', enum: ['reader', 'admin'] },
      via: { type: 'string', enum: ['token', 'mtls', 'none'] },
      auth_enabled: { type: 'boolean' },
      can_write: { type: 'boolean' },
      rest_writes: { type: 'boolean' },
    },
    'Who the caller is and what it may do.',
  ),
};

const hostStatus = (devices: DeviceSchemas) => ({
  $id: 'Host',
  ...strict(
    {
      version: text,
      instance_id: text,
      started_at: timestamp,
      backend: text,
      probe: strict({ available: { type: 'boolean' }, reason: text }, "the backend's host probe"),
      kvm: { type: 'boolean' },
      vm_slots: strict({ used: count, size: count }, 'VMs against MANAGER_MAX_VMS'),
      port_pool: strict({ in_use: count, size: count }, 'ports of MANAGER_QEMU_HOST_FWD_RANGE in use'),
      ...devices.host,
      rest_writes: { type: 'boolean' },
    },
    'The backend and its probe, VM slots, port pool and VM device pools of this host.',
  ),
});

export const POLICY_FORMATS = [...ATTESTATION_POLICY_FORMATS];

/** Every component, in the order /openapi.json lists them, with the VM devices' fields. */
export const apiSchemas = (devices: DeviceSchemas) =>
  [ErrorBody, vm(devices), VmList, CvmInfo, CreateVmRequest, CreatedVm, Health, Session, AgentMessage, AgentMessageList, hostStatus(devices)] as const;
