import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEventsLogs, loadManagerProto, type VmStreamEvent } from '@cocos-manager/contract';
import { emptyCreateVmRequest, METRICS, PROCESS_LAUNCHER, TRANSPORT, VM_SERVICE, type ManagerMetrics, type Transport, type VmApi } from '@cocos-manager/core';
import { createInertBackendPlugin, FakeLauncher, startTestManager, type TestManager } from '@cocos-manager/testing';
import { grpcTransportPlugin } from '@cocos-manager/transport-grpc';
import { httpTransportPlugin } from '@cocos-manager/transport-http';
import { agentChannelPlugin, ACK_BYTES, encodeFrame, MAX_FRAME_PAYLOAD, VIRTIO_SERIAL } from '@cocos-manager/agent-channel';

/**
 * The agent channel wired into a whole manager (real gRPC and HTTP over real
 * sockets; the fake launcher, so no QEMU): each test VM's events port is a
 * Unix socket this test listens on, as QEMU's chardev would, and what the
 * test writes there is what that VM's guest sends.
 */
const anyFile = fileURLToPath(import.meta.url);

/** Stands in for QEMU's chardev of one VM's events port: the manager connects; the test is the guest. */
class GuestPort {
  private readonly server: Server;
  readonly guests: Socket[] = [];
  acks = 0;
  closed = 0;
  constructor(readonly path: string) {
    this.server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => (this.acks += chunk.length / ACK_BYTES));
      socket.on('close', () => this.closed++);
      this.guests.push(socket);
    });
  }
  listen = () => new Promise<void>((resolve) => this.server.listen(this.path, resolve));
  get guest(): Socket | undefined {
    return this.guests.at(-1);
  }
  close() {
    for (const g of this.guests) g.destroy();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const until = async (check: () => boolean | Promise<boolean>, what: string, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const log = (id: number, message: string) => encodeFrame(id, encodeEventsLogs({ agent_log: { message, level: 'info', computation_id: '' } }));
const event = (id: number, type: string, status: string) =>
  encodeFrame(
    id,
    encodeEventsLogs({
      agent_event: { event_type: type, status, originator: 'agent', details: Buffer.from('{"n":1}'), timestamp: { seconds: '1700000000', nanos: 0 } },
    }),
  );

let t: TestManager;
let service: VmApi;
let httpPort = 0;
let grpcAddress = '';
const sse: string[] = [];
const watched: VmStreamEvent[] = [];
let watch: ClientReadableStream<VmStreamEvent>;
const sseAbort = new AbortController();
const vms: { id: string; port: GuestPort }[] = [];

beforeAll(async () => {
  t = await startTestManager({
    plugins: [createInertBackendPlugin(), agentChannelPlugin, grpcTransportPlugin, httpTransportPlugin],
    env: { MANAGER_AGENT_CHANNEL: 'virtio-serial', MANAGER_QEMU_DISK_IMG_KERNEL_FILE: anyFile, MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: anyFile },
    overrides: [{ token: PROCESS_LAUNCHER, useValue: new FakeLauncher() }],
  });
  const c = t.manager.container;
  service = c.resolve<VmApi>(VM_SERVICE);
  for (const transport of c.resolveAll<Transport>(TRANSPORT)) {
    if (transport.name === 'http') httpPort = Number(transport.address().split(':').at(-1));
    if (transport.name === 'grpc') grpcAddress = transport.address();
  }
  const res = await fetch(`http://127.0.0.1:${httpPort}/events?console=0`, { signal: sseAbort.signal });
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) sse.push(decoder.decode(chunk));
  })().catch(() => undefined);
  const { ManagerService } = loadManagerProto();
  const client = new ManagerService(grpcAddress.replace(/^0\.0\.0\.0/, '127.0.0.1'), credentials.createInsecure());
  watch = (client as unknown as { WatchEvents(req: object): ClientReadableStream<VmStreamEvent> }).WatchEvents({ vm_id: '', lifecycle_only: false });
  watch.on('data', (e: VmStreamEvent) => watched.push(e));
  watch.on('error', () => undefined);
  for (let i = 0; i < 2; i++) {
    const { id } = await service.create(emptyCreateVmRequest());
    const port = new GuestPort(path.join(t.dir, 'run', id, VIRTIO_SERIAL.events.socket));
    await port.listen();
    vms.push({ id, port });
  }
  await Promise.all(vms.map(({ port }) => until(() => port.guest !== undefined, 'the manager to connect to the events port')));
}, 60_000);

afterAll(async () => {
  sseAbort.abort();
  watch?.cancel();
  for (const { port } of vms) await port.close();
  await t?.stop();
});

const agentSse = () =>
  sse
    .join('')
    .split('\n\n')
    .filter((block) => block.startsWith('event: agent\n'))
    .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)) as Record<string, unknown>);

describe('the agent channel in a manager', () => {
  it("a guest's log and event reach SSE (event: agent), WatchEvents and the VM's history, each frame acknowledged", async () => {
    const [a] = vms;
    a!.port.guest!.write(Buffer.concat([log(1, 'agent started'), event(2, 'vm-provision', 'ready')]));
    await until(() => a!.port.acks === 2, 'two acks');
    await until(() => agentSse().length >= 2, 'two SSE agent events');
    expect(agentSse()).toEqual([
      expect.objectContaining({ vmId: a!.id, kind: 'log', level: 'info', message: 'agent started', timestamp: null }),
      expect.objectContaining({
        vmId: a!.id,
        kind: 'event',
        eventType: 'vm-provision',
        status: 'ready',
        originator: 'agent',
        details: '{"n":1}',
        timestamp: '2023-11-14T22:13:20.000Z',
      }),
    ]);
    await until(() => watched.filter((e) => e.kind === 'agent').length >= 2, 'two WatchEvents agent messages');
    const grpc = watched.filter((e) => e.kind === 'agent');
    expect(grpc.map((e) => [e.vm_id, e.agent?.kind, e.agent?.message || e.agent?.event_type])).toEqual([
      [a!.id, 'log', 'agent started'],
      [a!.id, 'event', 'vm-provision'],
    ]);
    expect(Buffer.from(grpc[1]!.agent!.details).toString()).toBe('{"n":1}');
    const history = (await (await fetch(`http://127.0.0.1:${httpPort}/vms/${a!.id}/agent`)).json()) as { messages: unknown[] };
    expect(history.messages).toEqual(agentSse());
    const metrics = await t.manager.container.resolve<ManagerMetrics>(METRICS).text();
    expect(metrics).toContain('manager_agent_messages_total{kind="log",event_type=""} 1');
    expect(metrics).toContain('manager_agent_messages_total{kind="event",event_type="vm-provision"} 1');
  });

  it('a hostile guest: a malformed frame is dropped, a flood and an oversized frame cut it off, all counted; the other VM goes on', async () => {
    const [a, b] = vms;
    const before = agentSse().length;
    // A payload that is no EventsLogs: dropped (still acknowledged), the connection kept.
    b!.port.guest!.write(encodeFrame(7, Buffer.from([0xff, 0xff, 0xff])));
    await until(() => b!.port.acks === 1, 'the malformed frame acknowledged');
    // 20,000 frames at once: far past the burst of 1,000 however fast the manager reads.
    const flood = Buffer.concat(Array.from({ length: 20_000 }, (_, i) => log(100 + i, 'x')));
    b!.port.guest!.write(flood);
    await until(() => b!.port.closed === 1, 'the flooding guest cut off');
    // It connects again (backoff); a frame header announcing more than 1 MiB cuts it at once.
    await until(() => b!.port.guests.length === 2, 'the manager to reconnect after the cut', 30_000);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(1, 0);
    header.writeUInt32LE(MAX_FRAME_PAYLOAD + 1, 4);
    b!.port.guest!.write(header);
    await until(() => b!.port.closed === 2, 'the oversized frame cut off');
    // The other VM's channel is untouched.
    a!.port.guest!.write(log(3, 'still here'));
    await until(() => agentSse().some((m) => m['message'] === 'still here'), "the other VM's message");
    const fromB = agentSse()
      .slice(before)
      .filter((m) => m['vmId'] === b!.id);
    // What B got through before the cut is the burst (1,000) and what the rate (500/s) refilled meanwhile: far from
    // the 20,000 it sent (half would take 18 s of reading). Its history stays bounded whatever it sent.
    expect(fromB.length).toBeGreaterThan(0);
    expect(fromB.length).toBeLessThan(10_000);
    expect(service.agentMessages(b!.id).length).toBeLessThanOrEqual(200);
    const metrics = await t.manager.container.resolve<ManagerMetrics>(METRICS).text();
    expect(metrics).toMatch(/manager_agent_frames_rejected_total\{reason="malformed"\} 1\b/);
    expect(metrics).toMatch(/manager_agent_frames_rejected_total\{reason="flood"\} 1\b/);
    expect(metrics).toMatch(/manager_agent_frames_rejected_total\{reason="oversized"\} 1\b/);
    expect(metrics).toMatch(/manager_agent_connections_cut_total 2\b/);
  });

  it("a removed VM's channel is closed and its history gone", async () => {
    const [a] = vms;
    const closed = a!.port.closed;
    await service.remove(a!.id);
    await until(() => a!.port.closed > closed, 'the channel closed');
    expect(() => service.agentMessages(a!.id)).toThrow(/no VM/);
    expect((await fetch(`http://127.0.0.1:${httpPort}/vms/${a!.id}/agent`)).status).toBe(404);
    // Nothing reconnects to a removed VM's port.
    await new Promise((r) => setTimeout(r, 600));
    expect(a!.port.guests.length).toBe(1);
  });
});
