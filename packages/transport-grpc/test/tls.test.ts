import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { credentials, Metadata, status, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSPORT } from '@cocos-manager/core';
import { Manager } from '@cocos-manager/core/internal';
import { inertBackendPlugin, makeTestPki } from '@cocos-manager/testing';
import { GrpcTransport, grpcTransportPlugin, loadManagerProto } from '../src/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-tls-'));
const file = (name: string) => path.join(dir, name);

async function startTlsManager(env: Record<string, string>) {
  const manager = Manager.create({
    plugins: [inertBackendPlugin, grpcTransportPlugin],
    env: {
      MANAGER_GRPC_PORT: '0',
      MANAGER_GRPC_HOST: '127.0.0.1',
      MANAGER_RUN_DIR: file('run'),
      MANAGER_STATE_DIR: file('state'),
      MANAGER_QEMU_DISK_IMG_KERNEL_FILE: file('ca.pem'),
      MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: file('ca.pem'),
      ...env,
    },
    logger: pino({ level: 'silent' }),
  });
  await manager.start();
  const port = manager.container.resolveAll<GrpcTransport>(TRANSPORT)[0]!.port();
  return { manager, port };
}

type Unary = (req: unknown, md: Metadata, options: { deadline: number }, cb: (err: ServiceError | null, res: unknown) => void) => void;
function listVms(port: number, creds: ChannelCredentials): Promise<unknown> {
  const { ManagerService } = loadManagerProto();
  const client = new ManagerService(`localhost:${port}`, creds) as Client & Record<string, Unary>;
  return new Promise((resolve, reject) =>
    client['ListVms']!({}, new Metadata(), { deadline: Date.now() + 5000 }, (err, res) => {
      client.close();
      return err ? reject(err) : resolve(res);
    }),
  ).finally(() => client.close());
}

describe('gRPC TLS and mTLS', () => {
  beforeAll(async () => {
    await makeTestPki(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const pem = (name: string) => readFileSync(file(name));

  it('TLS: a client trusting the server CA is served; a plaintext client is not', async () => {
    const { manager, port } = await startTlsManager({ MANAGER_GRPC_SERVER_CERT: file('server.pem'), MANAGER_GRPC_SERVER_KEY: file('server.key') });
    try {
      expect(await listVms(port, credentials.createSsl(pem('ca.pem')))).toEqual({ vms: [], next_page_token: '' });
      await expect(listVms(port, credentials.createInsecure())).rejects.toMatchObject({ code: status.UNAVAILABLE });
    } finally {
      await manager.stop();
    }
  });

  it('mTLS: without a client certificate refused; with one from the client CA served; from another CA refused', async () => {
    const { manager, port } = await startTlsManager({
      MANAGER_GRPC_SERVER_CERT: file('server.pem'),
      MANAGER_GRPC_SERVER_KEY: file('server.key'),
      MANAGER_GRPC_CLIENT_CA_CERTS: file('client-ca.pem'),
    });
    try {
      await expect(listVms(port, credentials.createSsl(pem('ca.pem')))).rejects.toMatchObject({ code: status.UNAVAILABLE });
      expect(await listVms(port, credentials.createSsl(pem('ca.pem'), pem('client.key'), pem('client.pem')))).toEqual({ vms: [], next_page_token: '' });
      await expect(listVms(port, credentials.createSsl(pem('ca.pem'), pem('stranger.key'), pem('stranger.pem')))).rejects.toMatchObject({
        code: status.UNAVAILABLE,
      });
    } finally {
      await manager.stop();
    }
  });

  it('refuses half a TLS configuration at start, naming both variables', async () => {
    const manager = Manager.create({
      plugins: [inertBackendPlugin, grpcTransportPlugin],
      env: {
        MANAGER_GRPC_PORT: '0',
        MANAGER_STATE_DIR: file('state'),
        MANAGER_RUN_DIR: file('run'),
        MANAGER_QEMU_DISK_IMG_KERNEL_FILE: file('ca.pem'),
        MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: file('ca.pem'),
        MANAGER_GRPC_SERVER_CERT: file('server.pem'),
      },
      logger: pino({ level: 'silent' }),
    });
    await expect(manager.start()).rejects.toThrow('MANAGER_GRPC_SERVER_CERT and MANAGER_GRPC_SERVER_KEY must be set together to enable TLS');
    await manager.stop();
  });

  it.each([
    [
      { MANAGER_GRPC_CLIENT_CA_CERTS: 'client-ca.pem' },
      'MANAGER_GRPC_CLIENT_CA_CERTS is set but MANAGER_GRPC_SERVER_CERT and MANAGER_GRPC_SERVER_KEY are not: mTLS needs the server certificate and key',
    ],
    [{ MANAGER_GRPC_SERVER_CERT: 'server.pem', MANAGER_GRPC_SERVER_KEY: 'client.key' }, 'the key does not match the certificate of MANAGER_GRPC_SERVER_CERT'],
    [{ MANAGER_GRPC_SERVER_CERT: 'server.pem', MANAGER_GRPC_SERVER_KEY: 'no-such.key' }, 'expected a readable PEM file (ENOENT)'],
  ])('fails closed at start: %o', async (files, line) => {
    const env = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, file(v)]));
    const manager = Manager.create({
      plugins: [inertBackendPlugin, grpcTransportPlugin],
      env: {
        MANAGER_GRPC_PORT: '0',
        MANAGER_STATE_DIR: file('state'),
        MANAGER_RUN_DIR: file('run'),
        MANAGER_QEMU_DISK_IMG_KERNEL_FILE: file('ca.pem'),
        MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: file('ca.pem'),
        ...env,
      },
      logger: pino({ level: 'silent' }),
    });
    const failure = await manager.start().then(
      () => null,
      (err: Error) => err.message,
    );
    await manager.stop();
    expect(failure).toContain(line);
    expect(failure?.split('\n')).toHaveLength(1);
  });
});
