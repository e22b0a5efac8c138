import { describe, expect, it } from 'vitest';
import {
  CM_PROCESS_PATH,
  decodeEventsLogs,
  encodeEventsLogs,
  loadCmStreamPackageDefinition,
  loadCmStreamProto,
  loadManagerPackageDefinition,
  type ClientStreamMessage,
  type ClientStreamMessageInput,
  type ServerStreamMessage,
  type ServerStreamMessageInput,
} from '../src/index.js';

/** Upstream's manager.proto before #353 and agent/events/events.proto: message → field → [number, type] (a message type as the .proto spells it). */
const UPSTREAM: Record<string, Record<string, [number, string]>> = {
  ClientStreamMessage: {
    agent_log: [1, 'AgentLog'],
    agent_event: [2, 'AgentEvent'],
    run_res: [3, 'RunResponse'],
    attestationPolicy: [4, 'AttestationPolicy'],
    stopComputationRes: [5, 'StopComputationResponse'],
    svm_info: [6, 'SVMInfo'],
  },
  ServerStreamMessage: {
    runReqChunks: [1, 'RunReqChunks'],
    runReq: [2, 'ComputationRunReq'],
    terminateReq: [3, 'Terminate'],
    stopComputation: [4, 'StopComputation'],
    attestationPolicyReq: [5, 'AttestationPolicyReq'],
    svmInfoReq: [6, 'SVMInfoReq'],
  },
  EventsLogs: { agent_log: [1, 'AgentLog'], agent_event: [2, 'AgentEvent'] },
  AgentLog: { message: [1, 'string'], computation_id: [2, 'string'], level: [3, 'string'], timestamp: [4, 'google.protobuf.Timestamp'] },
  AgentEvent: {
    event_type: [1, 'string'],
    timestamp: [2, 'google.protobuf.Timestamp'],
    computation_id: [3, 'string'],
    details: [4, 'bytes'],
    originator: [5, 'string'],
    status: [6, 'string'],
  },
  RunResponse: { agent_port: [1, 'string'], computation_id: [2, 'string'] },
  AttestationPolicy: { info: [1, 'bytes'], id: [2, 'string'] },
  StopComputationResponse: { computation_id: [1, 'string'], message: [2, 'string'] },
  SVMInfo: {
    id: [1, 'string'],
    ovmf_version: [2, 'string'],
    cpu_num: [3, 'int32'],
    cpu_type: [4, 'string'],
    kernel_cmd: [5, 'string'],
    eos_version: [6, 'string'],
  },
  RunReqChunks: { data: [1, 'bytes'], id: [2, 'string'], is_last: [3, 'bool'] },
  ComputationRunReq: {
    id: [1, 'string'],
    name: [2, 'string'],
    description: [3, 'string'],
    datasets: [4, 'Dataset'],
    algorithm: [5, 'Algorithm'],
    result_consumers: [6, 'ResultConsumer'],
    agent_config: [7, 'AgentConfig'],
  },
  Dataset: { hash: [1, 'bytes'], userKey: [2, 'bytes'], filename: [3, 'string'] },
  Algorithm: { hash: [1, 'bytes'], userKey: [2, 'bytes'] },
  ResultConsumer: { userKey: [1, 'bytes'] },
  AgentConfig: {
    port: [1, 'string'],
    host: [2, 'string'],
    cert_file: [3, 'string'],
    key_file: [4, 'string'],
    client_ca_file: [5, 'string'],
    server_ca_file: [6, 'string'],
    log_level: [7, 'string'],
    attested_tls: [8, 'bool'],
  },
  Terminate: { message: [1, 'string'] },
  StopComputation: { computation_id: [1, 'string'] },
  AttestationPolicyReq: { id: [1, 'string'] },
  SVMInfoReq: { id: [1, 'string'] },
};

const definition = loadCmStreamPackageDefinition();
type Descriptor = { field: Array<{ name: string; number: number; type: string; typeName: string; label: string }> };

function declaredFields(message: string): Record<string, [number, string]> {
  const type = (definition[`cocos.cm.${message}`] as { type?: Descriptor } | undefined)?.type;
  if (!type) throw new Error(`cm-stream.proto declares no message ${message}`);
  return Object.fromEntries(type.field.map((f) => [f.name, [f.number, f.type === 'TYPE_MESSAGE' ? f.typeName : f.type.replace('TYPE_', '').toLowerCase()]]));
}

/** Protobuf varint, to write upstream's bytes by hand. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  return [...out, n];
}
const field = (num: number, bytes: number[]) => [(num << 3) | 2, ...varint(bytes.length), ...bytes];
const text = (s: string) => [...Buffer.from(s)];

describe('cm-stream.proto against upstream (manager.proto before #353, agent/events/events.proto)', () => {
  it.each(Object.entries(UPSTREAM))('%s has the upstream field numbers, names and types', (message, fields) => {
    expect(declaredFields(message)).toEqual(fields);
  });

  it('declares exactly these messages, in its own package', () => {
    const declared = Object.keys(definition).filter((name) => name.startsWith('cocos.cm.') && name !== 'cocos.cm.ManagerService');
    expect(declared.sort()).toEqual(
      Object.keys(UPSTREAM)
        .map((m) => `cocos.cm.${m}`)
        .sort(),
    );
    // Nothing of it lands in manager.proto's package.
    expect(Object.keys(loadManagerPackageDefinition()).filter((name) => name.startsWith('cocos.'))).toEqual([]);
  });

  it('Process is a bidirectional stream at upstream path /manager.ManagerService/Process', () => {
    const process = loadCmStreamProto().ManagerService.service['Process']!;
    expect(CM_PROCESS_PATH).toBe('/manager.ManagerService/Process');
    expect(process.path).toBe(CM_PROCESS_PATH);
    expect([process.requestStream, process.responseStream]).toEqual([true, true]);
    expect(Object.keys(loadCmStreamProto().ManagerService.service)).toEqual(['Process']);
    expect(declaredFields('ComputationRunReq')).toBeDefined();
    const repeated = (definition['cocos.cm.ComputationRunReq'] as { type: Descriptor }).type.field
      .filter((f) => f.label === 'LABEL_REPEATED')
      .map((f) => f.name);
    expect(repeated).toEqual(['datasets', 'result_consumers']);
  });
});

describe('stream messages round trip, each oneof member on its own field number', () => {
  const process = loadCmStreamProto().ManagerService.service['Process']!;
  const client = (m: ClientStreamMessageInput) => process.requestSerialize(m);
  const server = (m: ServerStreamMessageInput) => process.responseSerialize(m);

  const CLIENT: Array<[number, ClientStreamMessageInput, Partial<ClientStreamMessage>]> = [
    [1, { agent_log: { message: 'm', computation_id: 'c', level: 'info', timestamp: { seconds: '1700000000', nanos: 5 } } }, { message: 'agent_log' }],
    [
      2,
      { agent_event: { event_type: 'vm-provision', computation_id: 'c', details: Buffer.from('{}'), originator: 'manager', status: 'Starting' } },
      { message: 'agent_event' },
    ],
    [3, { run_res: { agent_port: '6100', computation_id: 'c' } }, { message: 'run_res', run_res: { agent_port: '6100', computation_id: 'c' } }],
    [
      4,
      { attestationPolicy: { info: Buffer.from([1, 2]), id: 'c' } },
      { message: 'attestationPolicy', attestationPolicy: { info: Buffer.from([1, 2]), id: 'c' } },
    ],
    [5, { stopComputationRes: { computation_id: 'c', message: 'stopped' } }, { message: 'stopComputationRes' }],
    [6, { svm_info: { id: 'c', ovmf_version: 'edk2', cpu_num: 4, cpu_type: 'EPYC', kernel_cmd: 'quiet', eos_version: '0.1' } }, { message: 'svm_info' }],
  ];
  it.each(CLIENT)('ClientStreamMessage member %i', (num, message, expected) => {
    const bytes = client(message);
    expect(bytes[0]).toBe((num << 3) | 2);
    const decoded = process.requestDeserialize(bytes) as ClientStreamMessage;
    expect(decoded).toMatchObject(expected);
    expect(decoded).toMatchObject(message);
  });

  const SERVER: Array<[number, ServerStreamMessageInput]> = [
    [1, { runReqChunks: { data: Buffer.from('chunk'), id: 'c', is_last: true } }],
    [
      2,
      {
        runReq: {
          id: 'c',
          name: 'n',
          description: 'd',
          datasets: [{ hash: Buffer.alloc(32, 1), userKey: Buffer.from('k'), filename: 'data.csv' }],
          algorithm: { hash: Buffer.alloc(32, 2), userKey: Buffer.from('a') },
          result_consumers: [{ userKey: Buffer.from('r') }],
          agent_config: { port: '7002', host: '', cert_file: '', key_file: '', client_ca_file: '', server_ca_file: '', log_level: 'debug', attested_tls: true },
        },
      },
    ],
    [3, { terminateReq: { message: 'bye' } }],
    [4, { stopComputation: { computation_id: 'c' } }],
    [5, { attestationPolicyReq: { id: 'c' } }],
    [6, { svmInfoReq: { id: 'c' } }],
  ];
  it.each(SERVER)('ServerStreamMessage member %i', (num, message) => {
    const bytes = server(message);
    expect(bytes[0]).toBe((num << 3) | 2);
    const decoded = process.responseDeserialize(bytes) as ServerStreamMessage;
    expect(decoded.message).toBe(Object.keys(message)[0]);
    expect(decoded).toMatchObject(message);
  });

  it('an empty run request decodes with every field present, unset messages null', () => {
    const decoded = process.responseDeserialize(server({ runReq: { id: 'c' } })) as ServerStreamMessage;
    expect(decoded.message === 'runReq' && decoded.runReq).toEqual({
      id: 'c',
      name: '',
      description: '',
      datasets: [],
      algorithm: null,
      result_consumers: [],
      agent_config: null,
    });
  });
});

describe('the agent-channel payload (EventsLogs)', () => {
  it('decodes bytes written as upstream Go writes them', () => {
    const timestamp = [0x08, ...varint(1_700_000_000), 0x10, 5];
    const log = [...field(1, text('hi')), ...field(2, text('c1')), ...field(3, text('info')), ...field(4, timestamp)];
    expect(decodeEventsLogs(Buffer.from(field(1, log)))).toEqual({
      message: 'agent_log',
      agent_log: { message: 'hi', computation_id: 'c1', level: 'info', timestamp: { seconds: '1700000000', nanos: 5 } },
    });
    const event = [
      ...field(1, text('computation-run')),
      ...field(3, text('c1')),
      ...field(4, text('{"a":1}')),
      ...field(5, text('agent')),
      ...field(6, text('InProgress')),
    ];
    expect(decodeEventsLogs(Buffer.from(field(2, event)))).toEqual({
      message: 'agent_event',
      agent_event: {
        event_type: 'computation-run',
        timestamp: null,
        computation_id: 'c1',
        details: Buffer.from('{"a":1}'),
        originator: 'agent',
        status: 'InProgress',
      },
    });
  });

  it('round trips, the member on field 1 (log) or 2 (event)', () => {
    const log = encodeEventsLogs({ agent_log: { message: 'x', level: 'warn' } });
    expect(log[0]).toBe(0x0a);
    expect(decodeEventsLogs(log)).toMatchObject({ message: 'agent_log', agent_log: { message: 'x', level: 'warn', computation_id: '', timestamp: null } });
    const event = encodeEventsLogs({ agent_event: { status: 'Completed', timestamp: { seconds: '12', nanos: 0 } } });
    expect(event[0]).toBe(0x12);
    expect(decodeEventsLogs(event)).toMatchObject({ message: 'agent_event', agent_event: { status: 'Completed', timestamp: { seconds: '12', nanos: 0 } } });
  });

  it('refuses bytes that are not one EventsLogs member', () => {
    expect(() => decodeEventsLogs(Buffer.alloc(0))).toThrow('neither agent_log nor agent_event');
    expect(() => decodeEventsLogs(Buffer.from([0x0a, 0x05, 0x01]))).toThrow(); // a length past the end
    expect(() => decodeEventsLogs(Buffer.from([0x0f]))).toThrow(); // wire type 7 does not exist
    expect(() => decodeEventsLogs(Buffer.from(field(3, text('x'))))).toThrow('neither agent_log nor agent_event'); // an unknown field only
  });
});
