import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CmStub, makeTestPki, type TestPki } from '@cocos-manager/testing';
import { memoryLogger, startClient, until } from './fakes.js';

// Real sockets, processes and TLS: generous limits (each wait ends when its condition holds).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let pki: TestPki;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cm-tls-'));
  pki = await makeTestPki(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TLS to Computation Management', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  const pem = (name: string) => readFileSync(pki.file(name));
  async function stubWith(clientCa: boolean) {
    const stub = await CmStub.start({ tls: { cert: pem('server.pem'), key: pem('server.key'), ...(clientCa ? { clientCa: pem('client-ca.pem') } : {}) } });
    cleanup.push(() => stub.stop());
    return stub;
  }
  async function client(stub: CmStub, env: Record<string, string>) {
    const { logger, lines } = memoryLogger();
    // By name: the stub's certificate is for localhost (TLS names a host, not an address).
    const started = await startClient({ url: `localhost:${stub.port}` }, { env, logger });
    cleanup.push(() => started.client.stop());
    return { ...started, lines };
  }
  const mtls = () => ({
    MANAGER_CM_SERVER_CA_CERTS: pki.file('ca.pem'),
    MANAGER_GRPC_CLIENT_CERT: pki.file('client.pem'),
    MANAGER_GRPC_CLIENT_KEY: pki.file('client.key'),
  });
  /** Dials that failed, as the client logged them. */
  const failedDials = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l['msg'] === 'could not connect to Computation Management; redialling');

  it('mTLS: a client certificate the stub trusts and a CA that signs the stub: connected, a run goes through', async () => {
    const stub = await stubWith(true);
    const { lines } = await client(stub, mtls());
    await stub.waitForConnection();
    stub.sendRun({ id: 'comp-tls' });
    expect(await stub.waitForMessage('run_res')).toMatchObject({ computation_id: 'comp-tls' });
    expect(lines.find((l) => l['msg'] === 'Computation Management client dialling')).toMatchObject({ tls: 'mTLS', ca: 'MANAGER_CM_SERVER_CA_CERTS' });
  });

  it('TLS without a client certificate, to a stub that does not ask for one', async () => {
    const stub = await stubWith(false);
    await client(stub, { MANAGER_CM_SERVER_CA_CERTS: pki.file('ca.pem') });
    await stub.waitForConnection();
  });

  it('no client certificate where the stub requires one: never a stream, dials retried', async () => {
    const stub = await stubWith(true);
    const { lines } = await client(stub, { MANAGER_CM_SERVER_CA_CERTS: pki.file('ca.pem') });
    await until(
      () => failedDials(lines).length + lines.filter((l) => String(l['msg']).startsWith('the Computation Management stream ended')).length >= 3,
      'three failed attempts',
    );
    expect(stub.connections).toBe(0);
  });

  it('a CA that did not sign the stub: the dial fails, nothing is sent', async () => {
    const stub = await stubWith(true);
    const { lines } = await client(stub, { ...mtls(), MANAGER_CM_SERVER_CA_CERTS: pki.file('other-ca.pem') });
    await until(() => failedDials(lines).length >= 3, 'three failed dials');
    expect(stub.connections).toBe(0);
    expect(failedDials(lines)[0]).toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('a client certificate the stub does not trust: no stream', async () => {
    const stub = await stubWith(true);
    const { lines } = await client(stub, { ...mtls(), MANAGER_GRPC_CLIENT_CERT: pki.file('stranger.pem'), MANAGER_GRPC_CLIENT_KEY: pki.file('stranger.key') });
    await until(
      () => failedDials(lines).length + lines.filter((l) => String(l['msg']).startsWith('the Computation Management stream ended')).length >= 3,
      'three failed attempts',
    );
    expect(stub.connections).toBe(0);
  });

  it('plaintext to a TLS stub: no stream', async () => {
    const stub = await stubWith(false);
    const { lines } = await client(stub, {});
    await until(
      () => failedDials(lines).length + lines.filter((l) => String(l['msg']).startsWith('the Computation Management stream ended')).length >= 3,
      'three failed attempts',
    );
    expect(stub.connections).toBe(0);
  });
});
