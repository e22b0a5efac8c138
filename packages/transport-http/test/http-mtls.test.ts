// The HTTP transport's mTLS: client certificates mapped to identities and
// roles, and how it fails closed (a refused connection, a bad key pair, no
// certificate at all).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_GUARD, type ConnectionGuard } from '@cocos-manager/core';
import { makeTestPki, type TestPki } from '@cocos-manager/testing';
import { request, sample, startHttpManager, type HttpManager } from './harness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-http-mtls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const JSON_TYPE = { 'content-type': 'application/json' };

describe('mTLS identities and roles', () => {
  let pki: TestPki;
  let m: HttpManager;
  /** Another client certificate from the client CA, with CN `cn`. */
  const issue = (name: string, cn: string) => pki.issue('client-ca', name, cn);
  const as = (name: string) => ({
    ca: readFileSync(pki.file('ca.pem')),
    cert: readFileSync(pki.file(`${name}.pem`)),
    key: readFileSync(pki.file(`${name}.key`)),
    servername: 'localhost',
  });

  beforeAll(async () => {
    pki = await makeTestPki(mkdtempSync(path.join(dir, 'pki-')));
    await issue('operator', 'operator');
    await issue('nobody', 'nobody');
    m = await startHttpManager({
      MANAGER_HTTP_REST_WRITES: 'true',
      MANAGER_HTTP_SERVER_CERT: pki.file('server.pem'),
      MANAGER_HTTP_SERVER_KEY: pki.file('server.key'),
      MANAGER_HTTP_CLIENT_CA_CERTS: pki.file('client-ca.pem'),
      MANAGER_AUTH_MTLS_READERS: 'cocos-cli',
      MANAGER_AUTH_MTLS_ADMINS: 'operator',
    });
  }, 60_000);
  afterAll(() => m?.stop());

  it('reader certificate lists but cannot create; admin certificate creates; an unmapped one → 401', async () => {
    const create = (who: string) => request(m.port, { method: 'POST', path: '/vms', headers: JSON_TYPE, body: '{}', tls: as(who) });
    expect((await request(m.port, { path: '/vms', tls: as('client') })).status).toBe(200);
    expect((await create('client')).status).toBe(403);
    expect(m.service.list()).toEqual([]);
    expect((await create('nobody')).status).toBe(401);
    expect((await request(m.port, { path: '/vms', tls: as('nobody') })).status).toBe(401);
    expect((await create('operator')).status).toBe(201);
    expect(m.service.list()).toHaveLength(1);
  });

  it('over HTTPS too, a refused connection is closed before the TLS handshake', async () => {
    let checked = 0;
    const refusing: ConnectionGuard = {
      check: async () => {
        checked++;
        return { allowed: false, cause: 'vm-origin', vmId: 'test-vm', reason: 'stub' };
      },
    };
    const tls = await startHttpManager({ MANAGER_HTTP_SERVER_CERT: pki.file('server.pem'), MANAGER_HTTP_SERVER_KEY: pki.file('server.key') }, [
      { token: CONNECTION_GUARD, useValue: refusing },
    ]);
    try {
      await expect(request(tls.port, { path: '/health', tls: { ca: readFileSync(pki.file('ca.pem')), servername: 'localhost' } })).rejects.toThrow(
        /socket disconnected|ECONNRESET|hang up/,
      );
      expect(checked).toBe(1);
      expect(sample(await tls.metricsText(), 'manager_connections_refused_total', 'transport="http",reason="vm-origin"')).toBe(1);
    } finally {
      await tls.stop();
    }
  });

  it('TLS fails closed: a client CA without certificate and key, or a key of another certificate, stops start-up with one line', async () => {
    await expect(startHttpManager({ MANAGER_HTTP_CLIENT_CA_CERTS: pki.file('client-ca.pem') })).rejects.toThrow(/^MANAGER_HTTP_CLIENT_CA_CERTS is set but/);
    await expect(startHttpManager({ MANAGER_HTTP_SERVER_CERT: pki.file('server.pem'), MANAGER_HTTP_SERVER_KEY: pki.file('client.key') })).rejects.toThrow(
      /^MANAGER_HTTP_SERVER_KEY=.*does not match/,
    );
  });

  it('no certificate at all: the TLS handshake fails, nothing served', async () => {
    await expect(request(m.port, { path: '/vms', tls: { ca: readFileSync(pki.file('ca.pem')), servername: 'localhost' } })).rejects.toThrow();
  });
});
