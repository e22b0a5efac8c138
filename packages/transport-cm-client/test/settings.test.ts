import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, formats as f, setting } from '@cocos-manager/core';
import { Manager } from '@cocos-manager/core/internal';
import { inertBackendPlugin, makeTestPki, type TestPki } from '@cocos-manager/testing';
import { cmClientOptions, cmClientPlugin, CmClientTransport } from '../src/index.js';
import { clientConfig, quiet } from './fakes.js';

// Real sockets, processes and TLS: generous limits (each wait ends when its condition holds).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/** Stands in for the gRPC server transport's slice: the variables the client shares with it. */
const serverSlice = {
  grpc: {
    serverCert: setting({ env: 'MANAGER_GRPC_SERVER_CERT', doc: 'server cert', default: '', format: f.text }),
    serverCaCerts: setting({ env: 'MANAGER_GRPC_SERVER_CA_CERTS', doc: 'server chain', default: '', format: f.text }),
    timeout: setting({ env: 'MANAGER_GRPC_TIMEOUT', doc: 'timeout', default: '60s', format: f.duration }),
  },
};

let pki: TestPki;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cm-settings-'));
  pki = await makeTestPki(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (env: Record<string, string>, withServer = true) => cmClientOptions(clientConfig(env, withServer ? [serverSlice] : []));

describe('Computation Management client settings', () => {
  it("defaults: off, seeds/002's URL, plaintext, the server transport's MANAGER_GRPC_TIMEOUT, 1s..30s backoff", () => {
    const config = clientConfig({}, [serverSlice]);
    expect(config.toEnvRecord()).toMatchObject({ MANAGER_CM_CLIENT_ENABLE: 'false', MANAGER_GRPC_URL: 'localhost:7001' });
    expect(cmClientOptions(config)).toEqual({
      url: 'localhost:7001',
      tls: null,
      caFrom: null,
      dialTimeoutMs: 60_000,
      reconnect: { minMs: 1000, maxMs: 30_000 },
    });
  });

  it('a client certificate without its key (or the key alone) stops start-up naming both', () => {
    const halves: Array<Record<string, string>> = [{ MANAGER_GRPC_CLIENT_CERT: pki.file('client.pem') }, { MANAGER_GRPC_CLIENT_KEY: pki.file('client.key') }];
    for (const env of halves) {
      expect(() => options(env)).toThrow(ConfigError);
      expect(() => options(env)).toThrow(/MANAGER_GRPC_CLIENT_CERT and MANAGER_GRPC_CLIENT_KEY must be set together/);
    }
  });

  it('refuses unreadable files, a key of another certificate, a CA that is no certificate', () => {
    expect(() => options({ MANAGER_CM_SERVER_CA_CERTS: path.join(dir, 'missing.pem') })).toThrow(
      /MANAGER_CM_SERVER_CA_CERTS=.*expected a readable PEM file \(ENOENT\)/,
    );
    expect(() => options({ MANAGER_GRPC_CLIENT_CERT: pki.file('client.pem'), MANAGER_GRPC_CLIENT_KEY: pki.file('server.key') })).toThrow(
      /MANAGER_GRPC_CLIENT_KEY=.*does not match the certificate of MANAGER_GRPC_CLIENT_CERT/,
    );
    writeFileSync(path.join(dir, 'junk.pem'), 'not a certificate');
    expect(() => options({ MANAGER_CM_SERVER_CA_CERTS: path.join(dir, 'junk.pem') })).toThrow(/expected PEM CA certificates/);
  });

  it('TLS with a CA; mTLS with a client certificate; a certificate without CA trusts the system roots', () => {
    expect(options({ MANAGER_CM_SERVER_CA_CERTS: pki.file('ca.pem') })).toMatchObject({ tls: { cert: null, key: null }, caFrom: 'MANAGER_CM_SERVER_CA_CERTS' });
    const mtls = options({
      MANAGER_CM_SERVER_CA_CERTS: pki.file('ca.pem'),
      MANAGER_GRPC_CLIENT_CERT: pki.file('client.pem'),
      MANAGER_GRPC_CLIENT_KEY: pki.file('client.key'),
    });
    expect(mtls.tls?.cert?.toString()).toContain('BEGIN CERTIFICATE');
    const rootsOnly = options({ MANAGER_GRPC_CLIENT_CERT: pki.file('client.pem'), MANAGER_GRPC_CLIENT_KEY: pki.file('client.key') });
    expect(rootsOnly.tls).toMatchObject({ ca: null });
  });

  it("MANAGER_CM_SERVER_CA_CERTS wins; MANAGER_GRPC_SERVER_CA_CERTS (seeds/002) is taken while the server has no certificate, refused when it is the server's chain", () => {
    const both = { MANAGER_CM_SERVER_CA_CERTS: pki.file('ca.pem'), MANAGER_GRPC_SERVER_CA_CERTS: pki.file('other-ca.pem') };
    expect(options(both).caFrom).toBe('MANAGER_CM_SERVER_CA_CERTS');
    expect(options({ MANAGER_GRPC_SERVER_CA_CERTS: pki.file('ca.pem') }).caFrom).toBe('MANAGER_GRPC_SERVER_CA_CERTS');
    const serverChain = { MANAGER_GRPC_SERVER_CA_CERTS: pki.file('ca.pem'), MANAGER_GRPC_SERVER_CERT: pki.file('server.pem') };
    expect(() => options(serverChain)).toThrow(/MANAGER_GRPC_SERVER_CA_CERTS is the gRPC server's certificate chain here.*set MANAGER_CM_SERVER_CA_CERTS/);
    expect(options({ ...serverChain, MANAGER_CM_SERVER_CA_CERTS: pki.file('ca.pem') }).caFrom).toBe('MANAGER_CM_SERVER_CA_CERTS');
    // Without the server transport, its variables are not there at all.
    expect(options({ MANAGER_GRPC_SERVER_CA_CERTS: pki.file('ca.pem') }, false).tls).toBeNull();
  });

  it('MANAGER_CM_TIMEOUT wins over MANAGER_GRPC_TIMEOUT; 60s without either', () => {
    expect(options({ MANAGER_GRPC_TIMEOUT: '5s' }).dialTimeoutMs).toBe(5000);
    expect(options({ MANAGER_GRPC_TIMEOUT: '5s', MANAGER_CM_TIMEOUT: '2s' }).dialTimeoutMs).toBe(2000);
    expect(options({}, false).dialTimeoutMs).toBe(60_000);
    expect(() => clientConfig({ MANAGER_CM_TIMEOUT: 'soon' })).toThrow(/MANAGER_CM_TIMEOUT="soon": expected a positive Go duration/);
  });

  it('bad values stop start-up with one line', () => {
    expect(() => clientConfig({ MANAGER_CM_CLIENT_ENABLE: 'yes please' })).toThrow(/MANAGER_CM_CLIENT_ENABLE="yes please": expected a boolean/);
    expect(() => clientConfig({ MANAGER_GRPC_URL: 'cm example:7001' })).toThrow(/MANAGER_GRPC_URL="cm example:7001": expected a gRPC target/);
    expect(() => options({ MANAGER_CM_RECONNECT_MIN_DELAY: '10s', MANAGER_CM_RECONNECT_MAX_DELAY: '1s' })).toThrow(
      /MANAGER_CM_RECONNECT_MAX_DELAY must not be shorter than MANAGER_CM_RECONNECT_MIN_DELAY/,
    );
  });
});

describe('the plugin in a manager', () => {
  const env = (extra: Record<string, string>) => ({
    MANAGER_RUN_DIR: path.join(dir, 'run'),
    MANAGER_STATE_DIR: path.join(dir, 'state'),
    MANAGER_QEMU_DISK_IMG_KERNEL_FILE: pki.file('ca.pem'),
    MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: pki.file('ca.pem'),
    ...extra,
  });

  it('off by default: no transport registered', () => {
    const manager = Manager.create({ plugins: [inertBackendPlugin, cmClientPlugin], env: env({}), logger: quiet });
    expect(manager.transports()).toEqual([]);
  });

  it('on: one cm-client transport, built without an agent channel when none is loaded', () => {
    const manager = Manager.create({ plugins: [inertBackendPlugin, cmClientPlugin], env: env({ MANAGER_CM_CLIENT_ENABLE: 'true' }), logger: quiet });
    const transports = manager.transports();
    expect(transports).toHaveLength(1);
    expect(transports[0]).toBeInstanceOf(CmClientTransport);
    expect(transports[0]?.name).toBe('cm-client');
  });

  it('a half key pair stops the manager at start, before it dials', async () => {
    const manager = Manager.create({
      plugins: [inertBackendPlugin, cmClientPlugin],
      env: env({ MANAGER_CM_CLIENT_ENABLE: 'true', MANAGER_GRPC_CLIENT_CERT: pki.file('client.pem') }),
      logger: quiet,
    });
    await expect(manager.start()).rejects.toThrow(/MANAGER_GRPC_CLIENT_CERT and MANAGER_GRPC_CLIENT_KEY must be set together/);
    await manager.stop();
  });
});
