import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, ManagerError, TRANSPORT, VM_SERVICE } from '@cocos-manager/core';
import { Manager } from '@cocos-manager/core/internal';
import { inertBackendPlugin, makeTestPki, type TestPki } from '@cocos-manager/testing';
import { createRequestFromJson, fromFastifyRefusal, HttpTransport, httpTransportPlugin, toHttpError } from '../src/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-http-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('HTTP status of service errors', () => {
  it.each([
    [new ManagerError('REQUEST_FIELD_INVALID', 'bad ttl'), 400, 'INVALID_ARGUMENT'],
    [new ManagerError('VM_NOT_FOUND', 'unknown id'), 404, 'NOT_FOUND'],
    [new ManagerError('ATTESTATION_UNAVAILABLE', 'host cannot'), 412, 'FAILED_PRECONDITION'],
    [new ManagerError('VM_CAPACITY_REACHED', 'VM limit'), 429, 'RESOURCE_EXHAUSTED'],
    [new ManagerError('PORTS_EXHAUSTED', 'no port'), 503, 'RESOURCE_EXHAUSTED'],
    [new ManagerError('CALL_DEADLINE_EXCEEDED', 'too slow'), 504, 'DEADLINE_EXCEEDED'],
    [new ManagerError('CREDENTIALS_REQUIRED', 'no token'), 401, 'UNAUTHENTICATED'],
    [new ManagerError('ROLE_INSUFFICIENT', 'reader role'), 403, 'PERMISSION_DENIED'],
    [new ManagerError('INTERNAL_ERROR', 'QEMU died'), 500, 'INTERNAL'],
  ])('%s → %d %s', (err, status, code) => {
    expect(toHttpError(err)).toEqual({ status, body: { error: { code, reason: err.kind, message: `${err.kind}: ${err.message}` } }, unexpected: false });
  });

  it('an unexpected error is 500 INTERNAL and its text stays out of the body', () => {
    expect(toHttpError(new Error('EACCES: /var/lib/cocos/secret'))).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL', reason: 'INTERNAL_ERROR', message: 'INTERNAL_ERROR: internal error' } },
      unexpected: true,
    });
  });

  it.each([
    [400, 400],
    [413, 413],
    [415, 415],
    [405, 400],
  ])("Fastify's own %d refusal → %d INVALID_ARGUMENT with Fastify's message", (fastifyStatus, status) => {
    const refusal = Object.assign(new Error('Body is not valid JSON'), { statusCode: fastifyStatus });
    const reason = { 400: 'REQUEST_BODY_INVALID', 413: 'REQUEST_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' }[status];
    expect(toHttpError(fromFastifyRefusal(refusal))).toEqual({
      status,
      body: { error: { code: 'INVALID_ARGUMENT', reason, message: `${reason}: Body is not valid JSON` } },
      unexpected: false,
    });
  });

  it.each([[Object.assign(new Error('socket hang up'), { statusCode: 502 })], [new Error('boom')], ['text']])(
    'leaves %s to the catalogue as unexpected',
    (err) => {
      expect(toHttpError(fromFastifyRefusal(err))).toMatchObject({ status: 500, unexpected: true });
    },
  );
});

describe('errors over a real HTTP server', () => {
  // RAM boot wants readable kernel and initramfs files; no VM is ever started here.
  const thisFile = fileURLToPath(import.meta.url);
  const broken = new Error('EACCES: open /var/lib/cocos/secret');
  /** A VM service whose one VM lookup fails unexpectedly, another that is unknown. */
  const service = {
    init: async () => undefined,
    ready: async () => undefined,
    shutdown: async () => undefined,
    list: () => [],
    portUsage: () => ({ inUse: 0, size: 1 }),
    onEvent: () => () => undefined,
    onAgent: () => () => undefined,
    onConsole: () => () => undefined,
    get: async (id: string) => {
      if (id === 'broken') throw broken;
      throw new ManagerError('VM_NOT_FOUND', `no VM with id "${id}"`);
    },
  };
  let manager: Manager;
  let base = '';
  const logged: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    manager = Manager.create({
      plugins: [inertBackendPlugin, httpTransportPlugin],
      env: {
        MANAGER_HTTP_PORT: '0',
        MANAGER_HTTP_HOST: '127.0.0.1',
        MANAGER_HTTP_REST_WRITES: 'true',
        MANAGER_RUN_DIR: path.join(dir, 'run-errors'),
        MANAGER_STATE_DIR: path.join(dir, 'state-errors'),
        MANAGER_QEMU_DISK_IMG_KERNEL_FILE: thisFile,
        MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: thisFile,
      },
      overrides: [{ token: VM_SERVICE, useValue: service }],
      // What the transport logs at error level, as parsed JSON lines.
      logger: pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) }),
    });
    await manager.start();
    base = `http://127.0.0.1:${manager.container.resolveAll<HttpTransport>(TRANSPORT)[0]!.port()}`;
  });
  afterAll(() => manager?.stop());

  it('a ManagerError keeps its status and message', async () => {
    const res = await fetch(`${base}/vms/nope`);
    expect([res.status, await res.json()]).toEqual([
      404,
      { error: { code: 'NOT_FOUND', reason: 'VM_NOT_FOUND', message: 'VM_NOT_FOUND: no VM with id "nope"' } },
    ]);
  });

  it('an unexpected error is 500 "internal error" to the client and logged in full', async () => {
    const res = await fetch(`${base}/vms/broken`);
    expect([res.status, await res.json()]).toEqual([500, { error: { code: 'INTERNAL', reason: 'INTERNAL_ERROR', message: 'INTERNAL_ERROR: internal error' } }]);
    expect(logged).toContainEqual(
      expect.objectContaining({ msg: 'HTTP request failed unexpectedly', err: expect.objectContaining({ message: broken.message }) }),
    );
  });

  it("Fastify's refusals go through the catalogue", async () => {
    const malformed = await fetch(`${base}/vms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ttl": ' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    const xml = await fetch(`${base}/vms`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<vm/>' });
    expect(xml.status).toBe(415);
    expect(await xml.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
  });
});

describe('REST body', () => {
  it('maps CreateReq fields, bytes from base64', () => {
    const req = createRequestFromJson({ ttl: '1h', agent_cvm_client_cert: Buffer.from('PEM').toString('base64'), aa_kbs_params: 'k' });
    expect(req.ttl).toBe('1h');
    expect(Buffer.from(req.agentCvmClientCert).toString()).toBe('PEM');
    expect(req.aaKbsParams).toBe('k');
    expect(createRequestFromJson(undefined).ttl).toBe('');
  });
  it.each([[[1]], [{ ttl: 5 }], [{ unknown_field: 'x' }], [{ agent_cvm_client_key: '***' }]])('refuses %j with INVALID_ARGUMENT', (body) => {
    expect(() => createRequestFromJson(body)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });
});

describe('HTTPS with client certificates (mTLS)', () => {
  let pki: TestPki;
  let manager: Manager;
  let port: number;
  beforeAll(async () => {
    pki = await makeTestPki(dir);
    manager = Manager.create({
      plugins: [inertBackendPlugin, httpTransportPlugin],
      env: {
        MANAGER_HTTP_PORT: '0',
        MANAGER_HTTP_HOST: '127.0.0.1',
        MANAGER_RUN_DIR: path.join(dir, 'run'),
        MANAGER_STATE_DIR: path.join(dir, 'state'),
        MANAGER_QEMU_DISK_IMG_KERNEL_FILE: pki.file('ca.pem'),
        MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: pki.file('ca.pem'),
        MANAGER_HTTP_SERVER_CERT: pki.file('server.pem'),
        MANAGER_HTTP_SERVER_KEY: pki.file('server.key'),
        MANAGER_HTTP_CLIENT_CA_CERTS: pki.file('client-ca.pem'),
      },
      logger: pino({ level: 'silent' }),
    });
    await manager.start();
    port = manager.container
      .resolveAll<HttpTransport>(TRANSPORT)
      .find((t) => t.name === 'http')!
      .port();
  });
  afterAll(async () => {
    await manager?.stop();
  });

  const get = (options: https.RequestOptions) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.get({ host: 'localhost', port, path: '/health', ca: readFileSync(pki.file('ca.pem')), ...options }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
    });

  it('refuses a client without a certificate', async () => {
    await expect(get({})).rejects.toThrow();
  });
  it('refuses a client certificate from another CA', async () => {
    await expect(get({ key: readFileSync(pki.file('stranger.key')), cert: readFileSync(pki.file('stranger.pem')) })).rejects.toThrow();
  });
  it('serves a client with a certificate from the client CA', async () => {
    const res = await get({ key: readFileSync(pki.file('client.key')), cert: readFileSync(pki.file('client.pem')) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'pass' });
  });
});
