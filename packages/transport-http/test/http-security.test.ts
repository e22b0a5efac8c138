import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_GUARD, type ConnectionEnds, type ConnectionGuard } from '@cocos-manager/core';
import { request, sample, startHttpManager, type HttpManager } from './harness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-http-security-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const JSON_TYPE = { 'content-type': 'application/json' };

describe('browsers cannot drive the API (REST writes on, no auth)', () => {
  let m: HttpManager;
  beforeAll(async () => {
    m = await startHttpManager({
      MANAGER_HTTP_REST_WRITES: 'true',
      MANAGER_HTTP_ALLOWED_ORIGINS: 'https://console.example',
      MANAGER_HTTP_ALLOWED_HOSTS: 'manager.internal',
    });
  });
  afterAll(() => m?.stop());

  it('a host client with JSON creates a VM (drop-in: no auth configured)', async () => {
    const res = await request(m.port, { method: 'POST', path: '/vms', headers: JSON_TYPE, body: '{}' });
    expect(res.status).toBe(201);
    const { cvm_id } = JSON.parse(res.body) as { cvm_id: string };
    expect((await request(m.port, { method: 'DELETE', path: `/vms/${cvm_id}` })).status).toBe(204);
    expect(m.service.list()).toEqual([]);
  });

  it.each([
    ['a cross-site form POST', { 'content-type': 'application/x-www-form-urlencoded' }, 'ttl=1h'],
    ['a multipart form POST', { 'content-type': 'multipart/form-data; boundary=x' }, '--x--'],
    ['a no-cors fetch with text/plain', { 'content-type': 'text/plain;charset=UTF-8' }, '{}'],
    ['a POST without content type and body', {}, undefined],
    ['a POST without content type with a JSON body', {}, '{}'],
  ])('%s → 415, no VM created', async (_what, headers: Record<string, string>, body) => {
    const res = await request(m.port, { method: 'POST', path: '/vms', headers, body });
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('application/json') } });
    expect(m.service.list()).toEqual([]);
    expect(m.launcher.processes).toHaveLength(1); // only the first test's VM was ever started
  });

  it.each([['https://evil.example'], ['null'], [`http://localhost:1234`]])('Origin %s is refused with 403, writes and reads, no VM created', async (origin) => {
    const create = await request(m.port, { method: 'POST', path: '/vms', headers: { ...JSON_TYPE, origin }, body: '{}' });
    expect(create.status).toBe(403);
    expect(JSON.parse(create.body)).toMatchObject({ error: { code: 'PERMISSION_DENIED', message: expect.stringContaining('MANAGER_HTTP_ALLOWED_ORIGINS') } });
    expect((await request(m.port, { path: '/vms', headers: { origin } })).status).toBe(403);
    expect(create.headers['access-control-allow-origin']).toBeUndefined();
    expect(m.service.list()).toEqual([]);
  });

  it('a configured Origin is served; no CORS header is granted to anybody', async () => {
    const res = await request(m.port, { path: '/vms', headers: { origin: 'https://console.example' } });
    expect(res.status).toBe(200);
    const preflight = await request(m.port, {
      method: 'OPTIONS',
      path: '/vms',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' },
    });
    expect([preflight.status, preflight.headers['access-control-allow-origin'], preflight.headers['access-control-allow-methods']]).toEqual([
      403,
      undefined,
      undefined,
    ]);
  });

  it.each([['evil.example'], ['evil.example:7003'], ['localhost.evil.example'], ['127.0.0.1.nip.io'], ['a b']])(
    'Host %j (DNS rebinding) is refused with 403, no VM created',
    async (host) => {
      const res = await request(m.port, { method: 'POST', path: '/vms', headers: { ...JSON_TYPE, host }, body: '{}' });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'PERMISSION_DENIED', message: expect.stringContaining('Host') } });
      expect((await request(m.port, { path: '/health', headers: { host } })).status).toBe(403);
      expect(m.service.list()).toEqual([]);
    },
  );

  it('a request without Host header is refused (HTTP/1.0: 403; HTTP/1.1: 400 by the parser)', async () => {
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        let got = '';
        const s = net.connect(m.port, '127.0.0.1', () => s.write(text));
        s.on('data', (d) => (got += String(d)));
        s.on('error', () => undefined);
        s.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
      });
    expect(await raw('POST /vms HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}')).toMatch(/^HTTP\/1\.1 403/);
    expect(await raw('POST /vms HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}')).toMatch(/^HTTP\/1\.1 400/);
    expect(m.service.list()).toEqual([]);
  });

  it.each([['localhost'], ['LOCALHOST:7003'], ['127.0.0.1'], ['127.0.0.1:80'], ['[::1]'], ['[::1]:7003'], ['10.1.2.3:7003'], ['manager.internal:7003']])(
    'Host %j is served',
    async (host) => {
      expect((await request(m.port, { path: '/health', headers: { host } })).status).toBe(200);
    },
  );

  it('serves IPv6 loopback too when bound to localhost', async () => {
    const v6 = await startHttpManager({ MANAGER_HTTP_HOST: 'localhost' });
    try {
      expect((await request(v6.port, { host: '::1', path: '/health', headers: { host: `[::1]:${v6.port}` } })).status).toBe(200);
      expect((await request(v6.port, { host: '127.0.0.1', path: '/health' })).status).toBe(200);
    } finally {
      await v6.stop();
    }
  });
});

describe('REST writes are off by default', () => {
  let m: HttpManager;
  beforeAll(async () => {
    m = await startHttpManager();
  });
  afterAll(() => m?.stop());

  it('POST /vms and DELETE /vms/:id answer 404 NOT_FOUND naming the setting; reads work', async () => {
    const create = await request(m.port, { method: 'POST', path: '/vms', headers: JSON_TYPE, body: '{}' });
    expect(create.status).toBe(404);
    expect(JSON.parse(create.body)).toMatchObject({ error: { code: 'NOT_FOUND', message: expect.stringContaining('MANAGER_HTTP_REST_WRITES=true') } });
    const vm = await m.service.create({ ...emptyRequest() });
    expect((await request(m.port, { method: 'DELETE', path: `/vms/${vm.id}` })).status).toBe(404);
    expect(m.service.list()).toHaveLength(1);
    for (const p of ['/health', '/metrics', '/vms', `/vms/${vm.id}`, `/vms/${vm.id}/console`]) expect((await request(m.port, { path: p })).status, p).toBe(200);
  });
});

function emptyRequest() {
  const none = Buffer.alloc(0);
  return {
    agentLogLevel: '',
    agentCvmServerCaCert: none,
    agentCvmClientKey: none,
    agentCvmClientCert: none,
    agentCvmServerUrl: '',
    agentCvmCaUrl: '',
    ttl: '',
    agentCertsToken: '',
    awsAccessKeyId: '',
    awsSecretAccessKey: '',
    awsEndpointUrl: '',
    awsRegion: '',
    aaKbsParams: '',
  };
}

describe('bearer tokens and roles', () => {
  const readerToken = 'r'.repeat(40);
  const adminToken = 'a'.repeat(40);
  let m: HttpManager;
  beforeAll(async () => {
    const file = path.join(dir, 'tokens');
    writeFileSync(file, `reader ops-reader ${readerToken}\nadmin ops-admin ${adminToken}\n`, { mode: 0o600 });
    m = await startHttpManager({ MANAGER_HTTP_REST_WRITES: 'true', MANAGER_AUTH_TOKENS_FILE: file });
  });
  afterAll(() => m?.stop());
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('no token, a wrong token or another scheme → 401 with WWW-Authenticate: Bearer', async () => {
    for (const headers of [{}, bearer('x'.repeat(40)), { authorization: `Basic ${adminToken}` }, { authorization: 'Bearer' }]) {
      for (const r of [{ path: '/vms' }, { method: 'POST', path: '/vms', headers: JSON_TYPE, body: '{}' }, { path: '/events' }]) {
        const res = await request(m.port, { ...r, headers: { ...r.headers, ...headers } });
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
      }
    }
    expect(m.service.list()).toEqual([]);
  });

  it('authentication before the body: a POST without a token is answered 401 on its headers, its body never awaited', async () => {
    const net = await import('node:net');
    const socket = net.connect(m.port, '127.0.0.1');
    socket.on('error', () => undefined);
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    await new Promise((r) => socket.once('connect', r));
    // Headers announce a large body; not one byte of it is sent.
    socket.write('POST /vms HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n');
    const t0 = Date.now();
    while (!answer.includes('\r\n\r\n') && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    socket.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(m.service.list()).toEqual([]);
  });

  it('/health and /metrics need no token', async () => {
    expect((await request(m.port, { path: '/health' })).status).toBe(200);
    expect((await request(m.port, { path: '/metrics' })).status).toBe(200);
  });

  it('a reader lists but cannot create (403); an admin creates and removes', async () => {
    expect((await request(m.port, { path: '/vms', headers: bearer(readerToken) })).status).toBe(200);
    const denied = await request(m.port, { method: 'POST', path: '/vms', headers: { ...JSON_TYPE, ...bearer(readerToken) }, body: '{}' });
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body)).toMatchObject({ error: { code: 'PERMISSION_DENIED', message: expect.stringContaining('ops-reader') } });
    expect(denied.body).not.toContain(readerToken);
    expect(m.service.list()).toEqual([]);
    const created = await request(m.port, { method: 'POST', path: '/vms', headers: { ...JSON_TYPE, ...bearer(adminToken) }, body: '{}' });
    expect(created.status).toBe(201);
    const id = (JSON.parse(created.body) as { cvm_id: string }).cvm_id;
    expect((await request(m.port, { method: 'DELETE', path: `/vms/${id}`, headers: bearer(readerToken) })).status).toBe(403);
    expect((await request(m.port, { method: 'DELETE', path: `/vms/${id}`, headers: bearer(adminToken) })).status).toBe(204);
  });
});

describe('connections refused by the connection guard', () => {
  let m: HttpManager;
  let refuse = true;
  const seen: ConnectionEnds[] = [];
  const guard: ConnectionGuard = {
    check: async (ends) => {
      seen.push(ends);
      return refuse ? { allowed: false, cause: 'vm-origin', vmId: 'test-vm', reason: 'stub' } : { allowed: true };
    },
  };
  beforeAll(async () => {
    m = await startHttpManager({ MANAGER_HTTP_REST_WRITES: 'true' }, [{ token: CONNECTION_GUARD, useValue: guard }]);
  });
  afterAll(() => m?.stop());

  it('the client sees a closed connection, no handler ran, the refusal is counted', async () => {
    await expect(request(m.port, { method: 'POST', path: '/vms', headers: JSON_TYPE, body: '{}' })).rejects.toThrow(/socket hang up|ECONNRESET/);
    // A raw client gets no byte back either.
    const bytes = await new Promise<number>((resolve) => {
      let got = 0;
      const s = net.connect(m.port, '127.0.0.1', () => s.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n'));
      s.on('data', (d) => (got += d.length));
      s.on('error', () => undefined);
      s.on('close', () => resolve(got));
    });
    expect(bytes).toBe(0);
    expect(m.service.list()).toEqual([]);
    expect(m.launcher.processes).toEqual([]);
    const metrics = await m.metricsText();
    expect(sample(metrics, 'manager_connections_refused_total', 'transport="http",reason="vm-origin"')).toBe(2);
    expect(metrics).not.toContain('manager_api_requests_total{transport="http"');
    expect(seen[0]).toMatchObject({ remoteAddress: '127.0.0.1', localAddress: '127.0.0.1', localPort: m.port });
  });

  it('allowed connections are served', async () => {
    refuse = false;
    expect((await request(m.port, { path: '/health' })).status).toBe(200);
  });
});
