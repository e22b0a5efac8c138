import { describe, expect, it } from 'vitest';
import {
  loadManagerPackageDefinition,
  loadManagerProto,
  type AttestationPolicyReq,
  type AttestationPolicyRes,
  type ConsoleText,
  type CreateReq,
  type CreateRes,
  type CVMInfoReq,
  type CVMInfoRes,
  type GetConsoleReq,
  type GetVmReq,
  type ListVmsReq,
  type ListVmsRes,
  type ManagerStreamRpcs,
  type ManagerUnaryRpcs,
  type RemoveReq,
  type VmExit,
  type VmInfo,
  type VmStreamEvent,
  type AgentMessage,
  type WatchEventsReq,
} from '../src/index.js';

type FieldType = 'string' | 'bytes' | 'int32' | 'uint32' | 'bool' | 'VmInfo' | 'VmExit' | 'AgentMessage';
/** [field number, type] of each field; typed on the wire interface, so the compiler holds it to the same field names. */
type Fields<M> = { [K in keyof M]-?: [number, FieldType] };

/** DESIGN.md §4.1: the Go manager's messages, field by field. */
const UPSTREAM = {
  CreateReq: {
    agent_log_level: [1, 'string'],
    agent_cvm_server_ca_cert: [2, 'bytes'],
    agent_cvm_client_key: [3, 'bytes'],
    agent_cvm_client_cert: [4, 'bytes'],
    agent_cvm_server_url: [5, 'string'],
    agent_cvm_ca_url: [6, 'string'],
    ttl: [7, 'string'],
    agent_certs_token: [8, 'string'],
    aws_access_key_id: [9, 'string'],
    aws_secret_access_key: [10, 'string'],
    aws_endpoint_url: [11, 'string'],
    aws_region: [12, 'string'],
    aa_kbs_params: [13, 'string'],
  } satisfies Fields<CreateReq>,
  CreateRes: { forwarded_port: [1, 'string'], cvm_id: [2, 'string'] } satisfies Fields<CreateRes>,
  RemoveReq: { cvm_id: [1, 'string'] } satisfies Fields<RemoveReq>,
  CVMInfoReq: { id: [1, 'string'] } satisfies Fields<CVMInfoReq>,
  CVMInfoRes: {
    id: [1, 'string'],
    ovmf_version: [2, 'string'],
    cpu_num: [3, 'int32'],
    cpu_type: [4, 'string'],
    kernel_cmd: [5, 'string'],
    eos_version: [6, 'string'],
  } satisfies Fields<CVMInfoRes>,
  AttestationPolicyReq: { id: [1, 'string'] } satisfies Fields<AttestationPolicyReq>,
  AttestationPolicyRes: { info: [1, 'bytes'], id: [2, 'string'] } satisfies Fields<AttestationPolicyRes>,
};

/** Our extensions' messages, held to their wire interfaces the same way. */
const EXTENSIONS = {
  ListVmsReq: { page_size: [1, 'int32'], page_token: [2, 'string'] } satisfies Fields<ListVmsReq>,
  ListVmsRes: { vms: [1, 'VmInfo'], next_page_token: [2, 'string'] } satisfies Fields<ListVmsRes>,
  GetVmReq: { id: [1, 'string'] } satisfies Fields<GetVmReq>,
  VmExit: { code: [1, 'int32'], signal: [2, 'string'], reason: [3, 'string'] } satisfies Fields<VmExit>,
  VmInfo: {
    id: [1, 'string'],
    state: [2, 'string'],
    forwarded_port: [3, 'string'],
    pid: [4, 'int32'],
    backend: [5, 'string'],
    boot: [6, 'string'],
    created_at: [7, 'string'],
    ttl_deadline: [8, 'string'],
    exit: [9, 'VmExit'],
    guest_status: [10, 'string'],
    adopted: [11, 'bool'],
    gpus: [12, 'string'],
    state_write_error: [13, 'string'],
  } satisfies Fields<VmInfo>,
  WatchEventsReq: { vm_id: [1, 'string'], lifecycle_only: [2, 'bool'] } satisfies Fields<WatchEventsReq>,
  VmStreamEvent: {
    kind: [1, 'string'],
    vm_id: [2, 'string'],
    state: [3, 'string'],
    previous_state: [4, 'string'],
    detail: [5, 'string'],
    line: [6, 'string'],
    at: [7, 'string'],
    agent: [8, 'AgentMessage'],
  } satisfies Fields<VmStreamEvent>,
  AgentMessage: {
    kind: [1, 'string'],
    computation_id: [2, 'string'],
    level: [3, 'string'],
    message: [4, 'string'],
    event_type: [5, 'string'],
    status: [6, 'string'],
    originator: [7, 'string'],
    details: [8, 'bytes'],
    timestamp: [9, 'string'],
  } satisfies Fields<AgentMessage>,
  GetConsoleReq: { id: [1, 'string'], max_bytes: [2, 'uint32'] } satisfies Fields<GetConsoleReq>,
  ConsoleText: { text: [1, 'string'] } satisfies Fields<ConsoleText>,
};

/** Each RPC's request and response message, keyed as the wire's RPC maps are. */
const UNARY_RPCS: { [K in keyof ManagerUnaryRpcs]: [string, string] } = {
  CreateVm: ['manager.CreateReq', 'manager.CreateRes'],
  RemoveVm: ['manager.RemoveReq', 'google.protobuf.Empty'],
  CVMInfo: ['manager.CVMInfoReq', 'manager.CVMInfoRes'],
  AttestationPolicy: ['manager.AttestationPolicyReq', 'manager.AttestationPolicyRes'],
  ListVms: ['manager.ListVmsReq', 'manager.ListVmsRes'],
  GetVm: ['manager.GetVmReq', 'manager.VmInfo'],
  GetConsole: ['manager.GetConsoleReq', 'manager.ConsoleText'],
};
const STREAM_RPCS: { [K in keyof ManagerStreamRpcs]: [string, string] } = {
  WatchEvents: ['manager.WatchEventsReq', 'manager.VmStreamEvent'],
};

const definition = loadManagerPackageDefinition();
const service = definition['manager.ManagerService'] as unknown as Record<
  string,
  { path: string; requestStream: boolean; responseStream: boolean; requestType: unknown; responseType: unknown }
>;
/** The full name of an RPC's message type (its short name is unique across the loaded files). */
const nameOf = (messageType: unknown) => {
  const short = (messageType as { type: { name: string } }).type.name;
  const matches = Object.keys(definition).filter((full) => full.endsWith(`.${short}`));
  return matches.length === 1 ? matches[0] : `ambiguous or unknown: ${short}`;
};

/** The DescriptorProto proto-loader keeps of a message. */
type Descriptor = { field: Array<{ name: string; number: number; type: string; typeName: string; label: string }> };
const descriptorOf = (message: string) => (definition[message] as { type?: Descriptor } | undefined)?.type;

/** A message's fields as the loaded .proto declares them: name → [number, type]. */
function declaredFields(message: string): Record<string, [number, string]> {
  const type = descriptorOf(message);
  if (!type) throw new Error(`manager.proto declares no message ${message}`);
  return Object.fromEntries(type.field.map((f) => [f.name, [f.number, f.type === 'TYPE_MESSAGE' ? f.typeName : f.type.replace('TYPE_', '').toLowerCase()]]));
}

describe('manager.proto against DESIGN.md §4.1 (the Go manager contract)', () => {
  it.each(Object.entries(UPSTREAM))('%s has the Go field numbers, names and types', (message, fields) => {
    expect(declaredFields(`manager.${message}`)).toEqual(fields);
  });

  it('keeps the four Go RPCs, unary, with their request and response types', () => {
    for (const name of ['CreateVm', 'RemoveVm', 'CVMInfo', 'AttestationPolicy'] as const) {
      const method = service[name];
      expect(method, name).toBeDefined();
      expect(method!.path).toBe(`/manager.ManagerService/${name}`);
      expect([method!.requestStream, method!.responseStream]).toEqual([false, false]);
      expect([nameOf(method!.requestType), nameOf(method!.responseType)]).toEqual(UNARY_RPCS[name]);
    }
  });

  it('repeats the field only where the extension says so (ListVmsRes.vms)', () => {
    expect(descriptorOf('manager.ListVmsRes')?.field.map((f) => f.label)).toEqual(['LABEL_REPEATED', 'LABEL_OPTIONAL']);
  });
});

describe('the wire types cover the whole service', () => {
  it.each(Object.entries(EXTENSIONS))('%s matches its wire interface', (message, fields) => {
    expect(declaredFields(`manager.${message}`)).toEqual(fields);
  });

  it('every message of the package has a wire interface', () => {
    const declared = Object.keys(definition).filter((name) => name.startsWith('manager.') && name !== 'manager.ManagerService');
    expect(declared.sort()).toEqual(
      Object.keys({ ...UPSTREAM, ...EXTENSIONS })
        .map((m) => `manager.${m}`)
        .sort(),
    );
  });

  it('every RPC is in ManagerUnaryRpcs or ManagerStreamRpcs with its messages', () => {
    const shapes = Object.fromEntries(Object.entries(service).map(([name, m]) => [name, [m.responseStream, nameOf(m.requestType), nameOf(m.responseType)]]));
    expect(shapes).toEqual({
      ...Object.fromEntries(Object.entries(UNARY_RPCS).map(([name, [req, res]]) => [name, [false, req, res]])),
      ...Object.fromEntries(Object.entries(STREAM_RPCS).map(([name, [req, res]]) => [name, [true, req, res]])),
    });
  });
});

describe('decoding with PROTO_OPTIONS', () => {
  const { ManagerService } = loadManagerProto();

  it('fills every field of an empty message, bytes as Buffer', () => {
    const decode = ManagerService.service['CreateVm']!.requestDeserialize;
    const req = decode(Buffer.alloc(0)) as CreateReq;
    expect(Object.keys(req).sort()).toEqual(Object.keys(UPSTREAM.CreateReq).sort());
    expect(req.ttl).toBe('');
    expect(Buffer.isBuffer(req.agent_cvm_client_key)).toBe(true);
  });

  it('gives an unset message field as null and integers as numbers', () => {
    const getVm = ManagerService.service['GetVm']!;
    const vm = getVm.responseDeserialize(getVm.responseSerialize({ id: 'a', pid: 42 })) as VmInfo;
    expect(vm).toMatchObject({ id: 'a', pid: 42, exit: null, adopted: false, state: '' });
  });

  it("carries a VM's GPUs as a repeated string (VmInfo 12), none as an empty list", () => {
    const getVm = ManagerService.service['GetVm']!;
    expect(descriptorOf('manager.VmInfo')?.field.find((f) => f.name === 'gpus')?.label).toBe('LABEL_REPEATED');
    const roundTrip = (message: Partial<VmInfo>) => getVm.responseDeserialize(getVm.responseSerialize(message)) as VmInfo;
    expect(roundTrip({ id: 'a', gpus: ['0000:41:00.0', '0000:42:00.0'] }).gpus).toEqual(['0000:41:00.0', '0000:42:00.0']);
    expect(roundTrip({ id: 'a' }).gpus).toEqual([]);
  });
});
