import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { encodeEventsLogs } from '@cocos-manager/contract';
import { AgentSocketConnector, ChannelCounters, DEFAULT_CONNECTION_LIMITS, encodeFrame, type AgentMessage, type ConnectionEnd } from '../src/index.js';

const logger = pino({ level: 'silent' });
const log = (message: string) => encodeFrame(1, encodeEventsLogs({ agent_log: { message } }));

/**
 * Stands in for QEMU's `-chardev socket,server=on,wait=off` of a VM's events
 * port: one client at a time; each connection is the guest's end of the port.
 */
class FakeChardev {
  readonly server: Server;
  readonly guests: Socket[] = [];
  constructor(readonly path: string) {
    this.server = createServer((socket) => {
      socket.on('error', () => {});
      this.guests.push(socket);
    });
  }
  listen() {
    return new Promise<void>((resolve) => this.server.listen(this.path, resolve));
  }
  close() {
    for (const g of this.guests) g.destroy();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const until = async (check: () => boolean, what: string, timeoutMs = 3000) => {
  for (let i = 0; i < timeoutMs / 10 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

let dir: string;
let connector: AgentSocketConnector | null = null;
let chardev: FakeChardev | null = null;
afterEach(async () => {
  connector?.stop();
  await chardev?.close();
  connector = null;
  chardev = null;
  rmSync(dir, { recursive: true, force: true });
});

function start(limits = DEFAULT_CONNECTION_LIMITS, now?: () => number) {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cac-conn-'));
  const counters = new ChannelCounters();
  const seen = { messages: [] as AgentMessage[], ends: [] as ConnectionEnd[] };
  connector = new AgentSocketConnector(
    path.join(dir, 'agent-events.sock'),
    'vm-1',
    { onMessage: (m) => seen.messages.push(m), onEnd: (e) => seen.ends.push(e) },
    { counters, logger, limits, retryMs: 20, maxBackoffMs: 200, now },
  );
  chardev = new FakeChardev(connector.path);
  return { counters, seen, connector, chardev };
}

describe("the manager's end of a VM's virtio-serial events port (a stand-in QEMU chardev socket)", () => {
  it('waits for QEMU to listen, then reads frames and acknowledges them', async () => {
    const { seen, connector, chardev } = start();
    connector.start();
    await new Promise((r) => setTimeout(r, 60)); // QEMU not started yet: attempts fail quietly
    expect(connector.connected).toBe(false);
    await chardev.listen();
    await until(() => chardev.guests.length === 1 && connector.connected, 'the connection');
    const guest = chardev.guests[0]!;
    const acks: Buffer[] = [];
    guest.on('data', (b: Buffer) => acks.push(b));
    guest.write(Buffer.concat([log('booted'), encodeFrame(2, encodeEventsLogs({ agent_event: { status: 'Ready' } }))]));
    await until(() => Buffer.concat(acks).length === 8, 'two acks');
    expect([...Buffer.concat(acks)]).toEqual([1, 0, 0, 0, 2, 0, 0, 0]);
    expect(seen.messages.map((m) => m.kind)).toEqual(['log', 'event']);
  });

  it('connects again when the port is closed, and backs off after cutting a flooding guest off', async () => {
    let now = 0;
    const { seen, counters, connector, chardev } = start({ ...DEFAULT_CONNECTION_LIMITS, framesBurst: 5, framesPerSecond: 1 }, () => now);
    await chardev.listen();
    connector.start();
    await until(() => chardev.guests.length === 1, 'the first connection');
    chardev.guests[0]!.destroy(); // QEMU's side goes away (a guest reboot, a chardev reset)
    await until(() => chardev.guests.length === 2 && connector.connected, 'the reconnection');
    expect(seen.ends).toEqual(['closed']);

    chardev.guests[1]!.write(Buffer.concat(Array.from({ length: 20 }, () => log('flood'))));
    await until(() => seen.ends.length === 2, 'the cut');
    expect(seen.ends).toEqual(['closed', 'cut']);
    expect(seen.messages).toHaveLength(5);
    now += 10_000;
    await until(() => chardev.guests.length === 3 && connector.connected, 'the connection after the backoff');
    chardev.guests[2]!.write(log('calm again'));
    await until(() => seen.messages.length === 6, 'the next message');
    expect(counters.snapshot()).toMatchObject({ connections: 3, connectionsCut: 1, rejected: { flood: 1 } });
  });

  it('after a cut, connects again only once the cut connection is closed (its linger over), so the guest sees its port close', async () => {
    const dirPath = mkdtempSync(path.join(os.tmpdir(), 'cac-linger-'));
    const socketPath = path.join(dirPath, 'agent-events.sock');
    // A QEMU whose guest reads nothing: the cut connection's end is never answered, so it lingers until the manager destroys it (after 1 s).
    const held: Array<{ socket: Socket; connectedAt: number }> = [];
    const qemu = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      socket.on('error', () => {});
      held.push({ socket, connectedAt: performance.now() });
    });
    await new Promise<void>((resolve) => qemu.listen(socketPath, resolve));
    const ends: Array<{ end: ConnectionEnd; at: number }> = [];
    const lingering = new AgentSocketConnector(
      socketPath,
      'vm-1',
      { onMessage: () => {}, onEnd: (end) => ends.push({ end, at: performance.now() }) },
      { counters: new ChannelCounters(), logger, retryMs: 20, maxBackoffMs: 200 },
    );
    try {
      lingering.start();
      await until(() => held.length === 1, 'the first connection');
      // A header announcing 4 GiB: cut at once.
      held[0]!.socket.write(Buffer.from([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]));
      await until(() => ends.length === 1, 'the cut');
      expect(ends[0]!.end).toBe('cut');
      await until(() => held.length === 2, 'the connection after the linger and the backoff', 3000);
      // Not 20 ms after the cut (the backoff alone) but after the 1 s linger: timers never fire early, so this holds at any speed.
      expect(held[1]!.connectedAt - ends[0]!.at).toBeGreaterThanOrEqual(900);
    } finally {
      lingering.stop();
      for (const h of held) h.socket.destroy();
      await new Promise<void>((resolve) => qemu.close(() => resolve()));
      rmSync(dirPath, { recursive: true, force: true });
    }
  });

  it('stop closes the connection and connects no more', async () => {
    const { connector, chardev } = start();
    await chardev.listen();
    connector.start();
    await until(() => connector.connected, 'the connection');
    connector.stop();
    await until(() => chardev.guests[0]!.destroyed || chardev.guests[0]!.readableEnded, 'the close');
    await new Promise((r) => setTimeout(r, 100));
    expect(chardev.guests).toHaveLength(1);
    expect(connector.connected).toBe(false);
  });
});
