import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, Manager, ManagerError, TRANSPORT } from '@cocos-manager/core';
import { inertBackendPlugin, makeTestPki, type TestPki } from '@cocos-manager/testing';
import { createRequestFromJson, HttpTransport, httpTransportPlugin, toHttpError } from '../src/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-http-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('HTTP status of service errors', () => {
  it.each([
    [ManagerError.invalidArgument('x'), 400],
    [ManagerError.notFound('x'), 404],
    [ManagerError.failedPrecondition('x'), 412],
    [ManagerError.resourceExhausted('x', 'vm-capacity'), 429],
    [ManagerError.resourceExhausted('x', 'ports'), 503],
    [new Error('boom'), 500],
  ])('%s → %d', (err, status) => {
    expect(toHttpError(err).status).toBe(status);
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
    port = manager.container.resolveAll<HttpTransport>(TRANSPORT).find((t) => t.name === 'http')!.port();
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
