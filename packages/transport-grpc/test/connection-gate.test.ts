import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { CONNECTION_GUARD, type ConnectionEnds, type ConnectionGuard } from '@cocos-manager/core';
import { VmOriginGuard } from '@cocos-manager/core/internal';
import { grpcSettings } from '../src/index.js';
import { PREFACE_BYTES } from '../src/connection-gate.js';
import { call, managerClient, startGrpcManager, type GrpcTestManager } from './harness.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const running: GrpcTestManager[] = [];
afterEach(async () => {
  for (const m of running.splice(0)) await m.stop();
});
async function start(env: Record<string, string> = {}, guard?: ConnectionGuard) {
  const m = await startGrpcManager(env, guard ? [{ token: CONNECTION_GUARD, useValue: guard }] : []);
  running.push(m);
  return m;
}

/** A raw TCP connection; resolves once the server closed it, with what it sent back first. */
function rawConnection(port: number, send: Buffer | null): { socket: net.Socket; closed: Promise<{ bytes: number; afterMs: number }> } {
  const started = Date.now();
  const socket = net.connect(port, '127.0.0.1');
  let bytes = 0;
  socket.on('data', (d) => (bytes += d.length));
  socket.on('error', () => undefined);
  if (send) socket.write(send);
  return { socket, closed: new Promise((resolve) => socket.on('close', () => resolve({ bytes, afterMs: Date.now() - started }))) };
}
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

describe('binding', () => {
  it("binds localhost by default, the Go manager's default", () => {
    expect(grpcSettings.grpc.host.default).toBe('localhost');
  });

  it('localhost serves on both 127.0.0.1 and ::1, on one port (0 picks it)', async () => {
    const m = await start({ MANAGER_GRPC_HOST: 'localhost', MANAGER_GRPC_PORT: '0' });
    expect(m.port).toBeGreaterThan(0);
    expect(m.transport.address()).toBe(`localhost:${m.port}`);
    for (const address of [`127.0.0.1:${m.port}`, `[::1]:${m.port}`]) {
      const client = managerClient(address);
      expect(await call(client, 'ListVms', {})).toEqual({ vms: [], next_page_token: '' });
      client.close();
    }
  });
});

describe('connection guard: guests never reach a handler', () => {
  it('a refused connection gets UNAVAILABLE, the handler never runs, the refusal is counted', async () => {
    const seen: ConnectionEnds[] = [];
    const m = await start({}, { check: async (ends) => (seen.push(ends), { allowed: false, cause: 'vm-origin', vmId: 'vm-1', reason: 'test' }) });
    const client = managerClient(`127.0.0.1:${m.port}`);
    await expect(call(client, 'CreateVm', {})).rejects.toMatchObject({ code: status.UNAVAILABLE });
    client.close();
    expect(m.creates()).toBe(0);
    expect(seen[0]).toMatchObject({ remoteAddress: '127.0.0.1', localAddress: '127.0.0.1', localPort: m.port });
    expect(await m.metric('manager_connections_refused_total', { transport: 'grpc', reason: 'vm-origin' })).toBeGreaterThanOrEqual(1);
  });

  it('a guard that fails refuses (fail closed)', async () => {
    const m = await start({}, { check: async () => Promise.reject(new Error('proc unreadable')) });
    const client = managerClient(`127.0.0.1:${m.port}`);
    await expect(call(client, 'ListVms', {})).rejects.toMatchObject({ code: status.UNAVAILABLE });
    client.close();
    expect(await m.metric('manager_connections_refused_total', { transport: 'grpc', reason: 'guard-error' })).toBeGreaterThanOrEqual(1);
  });

  it('with the real VmOriginGuard: a "VM" process (a child) is refused, this process is served', async () => {
    let child: ReturnType<typeof execa> | null = null;
    const guard = new VmOriginGuard({ list: () => (child?.pid ? [{ id: 'vm-1', pid: child.pid }] : []) }, pino({ level: 'silent' }));
    const m = await start({}, guard);
    const script = `const grpc = require('@grpc/grpc-js');
      const c = new grpc.Client('127.0.0.1:${m.port}', grpc.credentials.createInsecure());
      c.makeUnaryRequest('/manager.ManagerService/CreateVm', (x) => x, (x) => x, Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + 5000 },
        (err) => { process.stdout.write(String(err ? err.code : 0)); process.exit(0); });`;
    child = execa(process.execPath, ['-e', script], { cwd: REPO, reject: false });
    const { stdout } = await child;
    expect(Number(stdout)).toBe(status.UNAVAILABLE);
    expect(m.creates()).toBe(0);
    expect(await m.metric('manager_connections_refused_total', { transport: 'grpc', reason: 'vm-origin' })).toBeGreaterThanOrEqual(1);
    // The guard still runs (the child is listed as a running VM) and lets this process through.
    const client = managerClient(`127.0.0.1:${m.port}`);
    expect(await call(client, 'CreateVm', {})).toMatchObject({ cvm_id: expect.any(String) });
    client.close();
    expect(m.creates()).toBe(1);
  });
});

describe('connection limits', () => {
  it('closes connections beyond MANAGER_GRPC_MAX_CONNECTIONS at once, and serves again once they go', async () => {
    const m = await start({ MANAGER_GRPC_MAX_CONNECTIONS: '2' });
    const held = [rawConnection(m.port, PREFACE), rawConnection(m.port, PREFACE)];
    const gate = () => m.transport['gate']!;
    for (let waited = 0; gate().connections < 2 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(gate().connections).toBe(2);
    const third = rawConnection(m.port, PREFACE);
    expect((await third.closed).bytes).toBe(0);
    expect(await m.metric('manager_connections_refused_total', { transport: 'grpc', reason: 'connection-limit' })).toBe(1);
    held.forEach((h) => h.socket.destroy());
    await Promise.all(held.map((h) => h.closed));
    for (let waited = 0; gate().connections > 0 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const client = managerClient(`127.0.0.1:${m.port}`);
    expect(await call(client, 'ListVms', {})).toEqual({ vms: [], next_page_token: '' });
    client.close();
  });

  it(`a connection that has not sent ${PREFACE_BYTES} bytes within MANAGER_GRPC_SERVER_READ_HEADER_TIMEOUT is closed; others are served meanwhile`, async () => {
    const m = await start({ MANAGER_GRPC_SERVER_READ_HEADER_TIMEOUT: '400ms' });
    const silent = rawConnection(m.port, null);
    const trickle = rawConnection(m.port, PREFACE.subarray(0, 10));
    const client = managerClient(`127.0.0.1:${m.port}`);
    expect(await call(client, 'ListVms', {})).toEqual({ vms: [], next_page_token: '' });
    client.close();
    for (const c of [silent, trickle]) {
      const { bytes, afterMs } = await c.closed;
      expect(bytes).toBe(0);
      expect(afterMs).toBeGreaterThanOrEqual(350);
      expect(afterMs).toBeLessThan(3000);
    }
    expect(await m.metric('manager_connections_refused_total', { transport: 'grpc', reason: 'header-timeout' })).toBe(2);
  });
});
