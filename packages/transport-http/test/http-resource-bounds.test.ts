import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_LIMITS, VM_SERVICE, type ConsoleLine } from '@cocos-manager/core';
import { MAX_CREATE_BODY_BYTES } from '../src/index.js';
import { request, sample, startHttpManager, type HttpManager } from './harness.js';

/** A raw connection that records whether and when the server closed it, and how many bytes it got. */
function rawConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const state = { closedAt: 0, bytes: 0 };
  socket.on('data', (d) => (state.bytes += d.length));
  socket.on('error', () => undefined);
  socket.on('close', () => (state.closedAt = performance.now()));
  return { socket, state };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('slow-trickling connections (timeouts 2s/3s)', () => {
  let m: HttpManager;
  beforeAll(async () => {
    m = await startHttpManager({
      MANAGER_HTTP_SERVER_READ_HEADER_TIMEOUT: '2s',
      MANAGER_HTTP_SERVER_READ_TIMEOUT: '3s',
      MANAGER_HTTP_SERVER_IDLE_TIMEOUT: '2s',
    });
  });
  afterAll(() => m?.stop());

  it('200 connections sending a byte a second are dropped after the timeouts while the API keeps answering', async () => {
    const started = performance.now();
    // 180 trickle their headers, 20 send whole headers and then trickle a body.
    const conns = Array.from({ length: 200 }, (_, i) => {
      const c = rawConnection(m.port);
      c.socket.write(
        i < 180
          ? 'GET /vms HTTP/1.1\r\nHost: localhost\r\nX-Slow: '
          : 'PUT /vms HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
      );
      return c;
    });
    const trickle = setInterval(() => {
      for (const c of conns) if (!c.socket.destroyed) c.socket.write('a');
    }, 1000);
    // Meanwhile a client keeps calling GET /health and GET /vms.
    const latencies: number[] = [];
    const statuses = new Set<number>();
    while (performance.now() - started < 6000) {
      for (const path of ['/health', '/vms']) {
        const t0 = performance.now();
        statuses.add((await request(m.port, { path })).status);
        latencies.push(performance.now() - t0);
      }
      await sleep(100);
    }
    clearInterval(trickle);
    const closedAfter = conns.map((c) => (c.state.closedAt === 0 ? Infinity : c.state.closedAt - started)).sort((a, b) => a - b);
    const worst = Math.max(...latencies);
    console.log(
      `200 trickling connections: closed after ${Math.round(closedAfter[0]!)}–${Math.round(closedAfter[199]!)} ms; ` +
        `${latencies.length} API calls meanwhile, slowest ${worst.toFixed(1)} ms, median ${latencies.sort((a, b) => a - b)[latencies.length >> 1]!.toFixed(1)} ms`,
    );
    expect([...statuses]).toEqual([200]);
    expect(latencies.length).toBeGreaterThan(30);
    expect(worst).toBeLessThan(1000);
    // None was dropped before the header timeout, every one by the read timeout plus the check interval and slack.
    expect(closedAfter[0]).toBeGreaterThan(1900);
    expect(closedAfter[199]).toBeLessThan(5000);
    for (const c of conns) c.socket.destroy();
  }, 30_000);

  it('an idle keep-alive connection is closed after the idle timeout', async () => {
    const c = rawConnection(m.port);
    const t0 = performance.now();
    c.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    while (c.state.closedAt === 0 && performance.now() - t0 < 6000) await sleep(50);
    expect(c.state.bytes).toBeGreaterThan(0);
    expect(c.state.closedAt - t0).toBeGreaterThan(1900);
    expect(c.state.closedAt - t0).toBeLessThan(4000);
  }, 10_000);
});

describe('connection and body limits', () => {
  let m: HttpManager;
  beforeAll(async () => {
    m = await startHttpManager({ MANAGER_HTTP_MAX_CONNECTIONS: '5', MANAGER_HTTP_REST_WRITES: 'true' });
  });
  afterAll(() => m?.stop());

  it('a connection over MANAGER_HTTP_MAX_CONNECTIONS is closed at once and counted; served again once others close', async () => {
    const held = Array.from({ length: 5 }, () => rawConnection(m.port));
    await sleep(200);
    const extra = rawConnection(m.port);
    extra.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await sleep(300);
    expect([extra.state.closedAt > 0, extra.state.bytes]).toEqual([true, 0]);
    expect(sample(await m.metricsText(), 'manager_connections_refused_total', 'transport="http",reason="connection-limit"')).toBe(1);
    for (const c of held) c.socket.destroy();
    await sleep(200);
    expect((await request(m.port, { path: '/health' })).status).toBe(200);
  });

  it(`POST /vms takes the largest valid request (${MAX_CREATE_BODY_BYTES} bytes allowed) and refuses a larger body with 413`, async () => {
    const pem = Buffer.alloc(REQUEST_LIMITS.pemBytes, 'A').toString('base64');
    const text = '\\u0061'.repeat(REQUEST_LIMITS.textBytes);
    const largest = `{"agent_cvm_server_ca_cert":"${pem}","agent_cvm_client_key":"${pem}","agent_cvm_client_cert":"${pem}","agent_cvm_server_url":"${text}","agent_cvm_ca_url":"${text}","agent_certs_token":"${text}","aws_access_key_id":"${text}","aws_secret_access_key":"${text}","aws_endpoint_url":"${text}","aws_region":"${text}","agent_log_level":"${text}","aa_kbs_params":"${text}","ttl":"${text}"}`;
    expect(largest.length).toBeLessThanOrEqual(MAX_CREATE_BODY_BYTES);
    const big = await request(m.port, { method: 'POST', path: '/vms', headers: { 'content-type': 'application/json' }, body: largest });
    expect(big.status).toBe(400); // read and validated (the text fields are no valid URL/level/ttl), not refused for its size
    const over = await request(m.port, {
      method: 'POST',
      path: '/vms',
      headers: { 'content-type': 'application/json' },
      body: `{"ttl":"${'x'.repeat(MAX_CREATE_BODY_BYTES)}"}`,
    });
    expect(over.status).toBe(413);
    expect(JSON.parse(over.body)).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    expect(m.service.list()).toEqual([]);
  });
});

describe('slow stream readers', () => {
  const consoleLines = new EventEmitter();
  consoleLines.setMaxListeners(0);
  /** A VM service whose console lines the test emits as fast as it likes. */
  const service = {
    init: async () => undefined,
    ready: async () => undefined,
    shutdown: async () => undefined,
    list: () => [],
    portUsage: () => ({ inUse: 0, size: 1 }),
    onEvent: () => () => undefined,
    onAgent: () => () => undefined,
    consoleOutput: async () => 'earlier lines\n',
    /** A read that takes longer than the write timeout. */
    get: async () => {
      await sleep(3000);
      throw new Error('too late');
    },
    onConsole: (listener: (line: ConsoleLine) => void) => {
      consoleLines.on('line', listener);
      return () => consoleLines.off('line', listener);
    },
  };
  let m: HttpManager;
  /** Console listeners that are not streams (the metrics count cut lines). */
  let others = 0;
  beforeAll(async () => {
    m = await startHttpManager({ MANAGER_HTTP_STREAM_BACKLOG_BYTES: '256K', MANAGER_HTTP_MAX_STREAMS: '3', MANAGER_HTTP_SERVER_WRITE_TIMEOUT: '1s' }, [
      { token: VM_SERVICE, useValue: service },
    ]);
    await m.metricsText();
    others = consoleLines.listenerCount('line');
  });
  afterAll(() => m?.stop());

  it.each([
    ['/events', 'events'],
    ['/vms/vm-1/console?follow=1', 'console'],
  ])(
    'a reader of %s that never reads is cut off and counted while a normal reader misses nothing',
    async (slowPath, stream) => {
      const lines = 10_000;
      const payload = 'x'.repeat(2000);
      // The normal reader counts console events as they come.
      let received = 0;
      let tail = '';
      const normal = http.get({ host: '127.0.0.1', port: m.port, path: '/events', headers: { host: 'localhost' }, agent: false }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const text = tail + chunk;
          const events = text.split('\n\n');
          tail = events.pop() ?? '';
          received += events.filter((e) => e.startsWith('event: console')).length;
        });
      });
      normal.on('error', () => undefined);
      // The slow reader asks for the stream and never reads a byte.
      const slow = rawConnection(m.port);
      slow.socket.write(`GET ${slowPath} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      slow.socket.pause();
      while (consoleLines.listenerCount('line') < others + 2) await sleep(20);
      for (let i = 0; i < lines; i += 20) {
        for (let j = i; j < i + 20; j++) consoleLines.emit('line', { kind: 'console', vmId: 'vm-1', line: `${j} ${payload}`, at: '' });
        await sleep(1);
      }
      const t0 = performance.now();
      while (received < lines && performance.now() - t0 < 10_000) await sleep(20);
      expect(received).toBe(lines);
      expect(sample(await m.metricsText(), 'manager_stream_clients_dropped_total', `transport="http",stream="${stream}"`)).toBe(1);
      expect(consoleLines.listenerCount('line')).toBe(others + 1); // the slow one's subscription is gone
      slow.socket.resume();
      while (slow.state.closedAt === 0 && performance.now() - t0 < 15_000) await sleep(20);
      expect(slow.state.closedAt).toBeGreaterThan(0);
      expect(slow.state.bytes).toBeLessThan(lines * payload.length);
      normal.destroy();
    },
    60_000,
  );

  it('a response not written within the write timeout loses its connection; a stream outlives it', async () => {
    const stream = rawConnection(m.port);
    stream.socket.write('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const t0 = performance.now();
    await expect(request(m.port, { path: '/vms/slow' })).rejects.toThrow(/socket hang up|ECONNRESET/);
    const cut = performance.now() - t0;
    expect(cut).toBeGreaterThan(900);
    expect(cut).toBeLessThan(2500);
    await sleep(500);
    const before = stream.state.bytes;
    consoleLines.emit('line', { kind: 'console', vmId: 'vm-1', line: 'still here', at: '' });
    await sleep(200);
    expect([stream.state.closedAt, stream.state.bytes > before]).toEqual([0, true]);
    stream.socket.destroy();
    while (consoleLines.listenerCount('line') > others) await sleep(20);
  });

  it('streams over MANAGER_HTTP_MAX_STREAMS are answered 503 RESOURCE_EXHAUSTED', async () => {
    const open = Array.from({ length: 3 }, () => rawConnection(m.port));
    for (const c of open) c.socket.write('GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n');
    while (consoleLines.listenerCount('line') < others + 3) await sleep(20);
    const refused = await request(m.port, { path: '/events' });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('MANAGER_HTTP_MAX_STREAMS') } });
    for (const c of open) c.socket.destroy();
    while (consoleLines.listenerCount('line') > others) await sleep(20);
    const again = http.get({ host: '127.0.0.1', port: m.port, path: '/events', headers: { host: 'localhost' }, agent: false });
    const status = await new Promise<number>((resolve) => again.on('response', (res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(200);
    again.destroy();
  });
});
