import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { encodeEventsLogs } from '@cocos-manager/contract';
import {
  AgentSocketListener,
  ChannelCounters,
  DEFAULT_CONNECTION_LIMITS,
  encodeFrame,
  FRAME_HEADER_BYTES,
  MAX_FRAME_PAYLOAD,
  type AgentMessage,
  type ConnectionEnd,
  type ConnectionLimits,
  type FrameRejected,
} from '../src/index.js';

const logger = pino({ level: 'silent' });
const log = (message: string) => encodeEventsLogs({ agent_log: { message, level: 'INFO', computation_id: 'c1' } });

/** One VM's socket, with what its agents delivered, what was refused and how connections ended. */
interface Vm {
  listener: AgentSocketListener;
  messages: AgentMessage[];
  rejected: FrameRejected[];
  ends: ConnectionEnd[];
}

let dir: string | undefined;
let vms: Vm[] = [];
let clients: Socket[] = [];
afterEach(async () => {
  for (const c of clients) c.destroy();
  for (const vm of vms) await vm.listener.close();
  clients = [];
  vms = [];
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function vmSocket(name: string, counters: ChannelCounters, limits?: Partial<ConnectionLimits>, clock?: () => number): Promise<Vm> {
  dir ??= mkdtempSync(path.join(os.tmpdir(), 'cac-sock-'));
  const socketDir = dir;
  const vm: Vm = { listener: null as unknown as AgentSocketListener, messages: [], rejected: [], ends: [] };
  vm.listener = new AgentSocketListener(
    path.join(socketDir, `${name}.sock`),
    name,
    { onMessage: (m) => vm.messages.push(m), onRejected: (r) => vm.rejected.push(r), onEnd: (e) => vm.ends.push(e) },
    { counters, logger, limits: { ...DEFAULT_CONNECTION_LIMITS, ...limits }, now: clock },
  );
  await vm.listener.listen();
  vms.push(vm);
  return vm;
}

/** A guest's agent connected to `vm`: what it reads back are acknowledgements. */
async function agent(vm: Vm) {
  const socket = createConnection(vm.listener.path);
  clients.push(socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let acks = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (acks = Buffer.concat([acks, chunk])));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  return {
    socket,
    closed,
    write: (bytes: Buffer) => new Promise<void>((resolve) => socket.write(bytes, () => resolve())),
    /** The ids acknowledged so far, in order. */
    acked: () => Array.from({ length: acks.length / 4 }, (_, i) => acks.readUInt32LE(i * 4)),
  };
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

describe('the agent channel over real Unix sockets', () => {
  it('delivers good frames in order and acknowledges each with its id', async () => {
    const counters = new ChannelCounters();
    const vm = await vmSocket('vm-a', counters);
    const a = await agent(vm);
    await a.write(encodeFrame(2, log('one')));
    await a.write(encodeFrame(3, encodeEventsLogs({ agent_event: { event_type: 'run', status: 'Completed', originator: 'agent' } })));
    await until(() => a.acked().length === 2, 'two acks');
    expect(a.acked()).toEqual([2, 3]);
    expect(vm.messages).toEqual([
      { kind: 'log', computationId: 'c1', level: 'INFO', message: 'one', timestamp: null },
      { kind: 'event', computationId: '', eventType: 'run', status: 'Completed', originator: 'agent', details: Buffer.alloc(0), timestamp: null },
    ]);
    expect(counters.snapshot()).toMatchObject({ connections: 1, connectionsCut: 0, frames: 2, rejected: { oversized: 0, malformed: 0, flood: 0 } });
  });

  it('reassembles frames split across writes and splits frames coalesced into one write', async () => {
    const vm = await vmSocket('vm-a', new ChannelCounters());
    const a = await agent(vm);
    const big = encodeFrame(7, log('x'.repeat(10_000)));
    for (const piece of [big.subarray(0, 3), big.subarray(3, FRAME_HEADER_BYTES + 1), big.subarray(FRAME_HEADER_BYTES + 1)]) {
      await a.write(piece);
      await new Promise((r) => setTimeout(r, 20));
    }
    await a.write(Buffer.concat([encodeFrame(8, log('b')), encodeFrame(9, log('c')), encodeFrame(10, log('d')).subarray(0, 5)]));
    await a.write(encodeFrame(10, log('d')).subarray(5));
    await until(() => a.acked().length === 4, 'four acks');
    expect(a.acked()).toEqual([7, 8, 9, 10]);
    expect(vm.messages.map((m) => (m.kind === 'log' ? m.message.slice(0, 3) : m.kind))).toEqual(['xxx', 'b', 'c', 'd']);
  });

  it('drops and counts a malformed payload, still acknowledges it, and keeps the connection', async () => {
    const counters = new ChannelCounters();
    const vm = await vmSocket('vm-a', counters);
    const a = await agent(vm);
    await a.write(encodeFrame(1, Buffer.from([0xff, 0xff, 0xff])));
    await a.write(encodeFrame(2, encodeEventsLogs({ agent_log: { level: 'l'.repeat(17) } })));
    await a.write(encodeFrame(3, log('after')));
    await until(() => a.acked().length === 3, 'three acks');
    expect(vm.messages.map((m) => m.kind === 'log' && m.message)).toEqual(['after']);
    expect(vm.rejected.map((r) => [r.rejectReason, r.fields['field'] ?? null])).toEqual([
      ['malformed', null],
      ['malformed', 'level'],
    ]);
    expect(counters.snapshot()).toMatchObject({ frames: 1, connectionsCut: 0, rejected: { malformed: 2 } });
    expect(vm.listener.connections).toBe(1);
  });

  it('cuts a connection at once on an oversized length, without waiting for (or keeping) the payload', async () => {
    const counters = new ChannelCounters();
    const vm = await vmSocket('vm-a', counters);
    const a = await agent(vm);
    await a.write(encodeFrame(1, log('ok')));
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32LE(2, 0);
    header.writeUInt32LE(MAX_FRAME_PAYLOAD + 1, 4);
    await a.write(header); // and not one byte of payload
    await a.closed;
    expect(a.acked()).toEqual([1]);
    expect(vm.ends).toEqual(['cut']);
    expect(counters.snapshot()).toMatchObject({ frames: 1, connectionsCut: 1, rejected: { oversized: 1 } });
    await until(() => vm.listener.connections === 0, 'the connection to go');
  });

  it('cuts off a flooding guest and counts it; another VM and the same VM reconnecting are unaffected', async () => {
    const counters = new ChannelCounters();
    let now = 0;
    const flooded = await vmSocket('vm-a', counters, { framesBurst: 20, framesPerSecond: 10 }, () => now);
    const other = await vmSocket('vm-b', counters, { framesBurst: 20, framesPerSecond: 10 }, () => now);
    const a = await agent(flooded);
    const b = await agent(other);
    await b.write(encodeFrame(1, log('b1')));
    await until(() => b.acked().length === 1, "vm-b's first ack");

    await a.write(Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeFrame(i + 1, log(`a${i}`)))));
    await a.closed;
    // The burst went through and was acknowledged; the rest was not read.
    expect(flooded.messages).toHaveLength(20);
    expect(a.acked()).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(flooded.ends).toEqual(['cut']);
    expect(flooded.rejected.map((r) => r.rejectReason)).toEqual(['flood']);

    now += 1000; // the other VM's budget refills on its own
    await b.write(encodeFrame(2, log('b2')));
    await until(() => b.acked().length === 2, "vm-b's second ack");
    expect(other.messages.map((m) => m.kind === 'log' && m.message)).toEqual(['b1', 'b2']);
    expect(other.ends).toEqual([]);

    const again = await agent(flooded); // a new connection gets a new budget
    await again.write(encodeFrame(99, log('back')));
    await until(() => again.acked().length === 1, 'the reconnected ack');
    expect(counters.snapshot()).toMatchObject({ connections: 3, connectionsCut: 1, frames: 23, rejected: { flood: 1, oversized: 0, malformed: 0 } });
  });

  it('cuts off a guest over its byte rate before a frame is complete', async () => {
    const counters = new ChannelCounters();
    const vm = await vmSocket('vm-a', counters, { bytesBurst: 64 * 1024, bytesPerSecond: 1024 }, () => 0);
    const a = await agent(vm);
    await a.write(Buffer.concat([encodeFrame(1, Buffer.alloc(0)).subarray(0, 4), Buffer.from([0, 0, 8, 0]), Buffer.alloc(200 * 1024)]));
    await a.closed;
    expect(vm.messages).toEqual([]);
    expect(counters.snapshot()).toMatchObject({ connectionsCut: 1, rejected: { flood: 1 } });
  });

  it('cuts off a guest that does not read its acknowledgements once they pile up', async () => {
    const counters = new ChannelCounters();
    const vm = await vmSocket('vm-a', counters, { framesBurst: 1e6, framesPerSecond: 1e6, maxUnreadAckBytes: 4096 });
    const a = await agent(vm);
    a.socket.pause(); // reads nothing: the acks fill the socket buffers, then the manager's queue
    const empty = encodeFrame(1, encodeEventsLogs({ agent_log: {} }));
    const burst = Buffer.concat(Array.from({ length: 20_000 }, () => empty));
    for (let i = 0; i < 10 && vm.ends.length === 0; i++) await a.write(burst);
    await until(() => vm.ends.length === 1, 'the cut');
    expect(vm.ends).toEqual(['cut']);
    expect(vm.rejected.map((r) => r.message)).toEqual(['left more than 4096 bytes of acknowledgements unread']);
    expect(counters.snapshot()).toMatchObject({ connectionsCut: 1, rejected: { flood: 1 } });
  });

  it('refuses connections over the per-VM limit and counts them, keeping the open ones', async () => {
    const counters = new ChannelCounters();
    const vm = await vmSocket('vm-a', counters);
    const first = await agent(vm);
    const second = await agent(vm);
    const third = await agent(vm);
    await third.closed;
    await first.write(encodeFrame(1, log('1')));
    await second.write(encodeFrame(2, log('2')));
    await until(() => first.acked().length === 1 && second.acked().length === 1, 'both acks');
    expect(counters.snapshot()).toMatchObject({ connections: 2, connectionsCut: 1, rejected: { flood: 1 } });
  });

  it('closing the VM socket ends its connections and removes the socket file', async () => {
    const vm = await vmSocket('vm-a', new ChannelCounters());
    const a = await agent(vm);
    await vm.listener.close();
    vms = [];
    await a.closed;
    await expect(agent(vm)).rejects.toThrow(/ENOENT/);
  });
});
