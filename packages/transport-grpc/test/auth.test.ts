import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { TRANSPORT } from '@cocos-manager/core';
import { Manager } from '@cocos-manager/core/internal';
import { inertBackendPlugin, makeTestPki, type TestPki } from '@cocos-manager/testing';
import { grpcTransportPlugin, type GrpcTransport } from '../src/index.js';
import { bearer, call, managerClient, startGrpcManager, type GrpcTestManager, type ManagerClient } from './harness.js';

const READER = 'r'.repeat(40);
const ADMIN = 'a'.repeat(40);
const CLI = fileURLToPath(new URL('../../../apps/cli/dist/main.js', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-grpc-auth-'));
const file = (name: string) => path.join(dir, name);

function secretFile(name: string, text: string, mode = 0o600): string {
  writeFileSync(file(name), text);
  chmodSync(file(name), mode);
  return file(name);
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bearer tokens and roles over gRPC', () => {
  let m: GrpcTestManager;
  let client: ManagerClient;
  beforeAll(async () => {
    const tokens = secretFile('tokens', `# role name token\nreader ci-reader ${READER}\nadmin ops ${ADMIN}\n`);
    m = await startGrpcManager({ MANAGER_AUTH_TOKENS_FILE: tokens });
    client = managerClient(`127.0.0.1:${m.port}`);
  });
  afterAll(async () => {
    client?.close();
    await m?.stop();
  });

  it('no token: UNAUTHENTICATED for every RPC of the service, the handler never runs', async () => {
    for (const [method, req] of [
      ['ListVms', {}],
      ['CreateVm', {}],
      ['RemoveVm', { cvm_id: 'x' }],
      ['GetVm', { id: 'x' }],
      ['CVMInfo', { id: 'x' }],
      ['AttestationPolicy', { id: 'x' }],
      ['GetConsole', { id: 'x' }],
    ] as const) {
      await expect(call(client, method, req), method).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    }
    expect(m.creates()).toBe(0);
  });

  it('an unknown or malformed token is UNAUTHENTICATED', async () => {
    await expect(call(client, 'ListVms', {}, bearer('x'.repeat(40)))).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    const basic = new Metadata();
    basic.set('authorization', `Basic ${ADMIN}`);
    await expect(call(client, 'ListVms', {}, basic)).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('reader: lists, reads, but cannot create or remove', async () => {
    expect(await call(client, 'ListVms', {}, bearer(READER))).toEqual({ vms: [], next_page_token: '' });
    await expect(call(client, 'GetVm', { id: 'nope' }, bearer(READER))).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(call(client, 'CreateVm', {}, bearer(READER))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: expect.stringContaining('"ci-reader" has the reader role'),
    });
    await expect(call(client, 'RemoveVm', { cvm_id: 'nope' }, bearer(READER))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect(m.creates()).toBe(0);
  });

  it('admin: creates and removes', async () => {
    const vm = (await call(client, 'CreateVm', {}, bearer(ADMIN))) as { cvm_id: string };
    expect(m.creates()).toBe(1);
    expect(await call(client, 'ListVms', {}, bearer(READER))).toMatchObject({ vms: [{ id: vm.cvm_id }] });
    expect(await call(client, 'RemoveVm', { cvm_id: vm.cvm_id }, bearer(ADMIN))).toEqual({});
  });

  it('WatchEvents needs a token too', async () => {
    const stream = client.WatchEvents({ vm_id: '', lifecycle_only: true }, new Metadata());
    const failure = await new Promise<{ code: number }>((resolve) => {
      stream.on('error', resolve);
      stream.on('data', () => undefined);
    });
    expect(failure.code).toBe(status.UNAUTHENTICATED);
  });

  it('grpc.health.v1 stays free', async () => {
    const raw = new (await import('@grpc/grpc-js')).Client(`127.0.0.1:${m.port}`, credentials.createInsecure());
    // Health/Check with an empty HealthCheckRequest (service ""): SERVING is field 1 = 1.
    const answer = await new Promise<Buffer>((resolve, reject) =>
      raw.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (x: Buffer) => x,
        (x: Buffer) => x,
        Buffer.alloc(0),
        (err, res) => (err ? reject(err) : resolve(res!)),
      ),
    );
    raw.close();
    expect(answer.toString('hex')).toBe('0801');
  });

  describe('through the CLI binary', () => {
    const cli = (args: string[], env: Record<string, string> = {}) =>
      execa('node', [CLI, '--server-url', `127.0.0.1:${m.port}`, '--timeout', '10', ...args], {
        reject: false,
        env: { PATH: process.env['PATH'] ?? '', COCOS_MANAGER_TOKEN: '', ...env },
        extendEnv: false,
      });

    it('without a token: UNAUTHENTICATED, one line that says how to give one', async () => {
      const { exitCode, stderr } = await cli(['list-vms'], { COCOS_MANAGER_TOKEN: '' });
      expect(exitCode).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/UNAUTHENTICATED.*--token/);
    });

    it('reader token file: lists, cannot create', async () => {
      const token = secretFile('reader.token', `${READER}\n`);
      const list = await cli(['--token-file', token, 'list-vms']);
      expect([list.exitCode, list.stdout]).toEqual([0, 'no VMs']);
      const create = await cli(['--token-file', token, 'create-vm']);
      expect(create.exitCode).toBe(1);
      expect(create.stderr).toMatch(/PERMISSION_DENIED/);
      expect(create.stderr).not.toContain(READER);
    });

    it('admin token from COCOS_MANAGER_TOKEN or --token: creates', async () => {
      const created = await cli(['--json', 'create-vm'], { COCOS_MANAGER_TOKEN: ADMIN });
      expect(created.exitCode, created.stderr).toBe(0);
      const { cvm_id: id } = JSON.parse(created.stdout) as { cvm_id: string };
      const removed = await cli(['--token', ADMIN, 'remove-vm', id]);
      expect([removed.exitCode, removed.stdout]).toEqual([0, `VM ${id} removed`]);
    });

    it('refuses a token file others can read, and --token with --token-file', async () => {
      const open = secretFile('open.token', `${ADMIN}\n`, 0o644);
      const loose = await cli(['--token-file', open, 'list-vms']);
      expect(loose.exitCode).toBe(1);
      expect(loose.stderr).toBe(`cocos-manager-cli: --token-file ${open}: readable by group or others (mode 644); expected 0600 or 0400 (chmod 600 ${open})`);
      const both = await cli(['--token', ADMIN, '--token-file', secretFile('a.token', ADMIN), 'list-vms']);
      expect(both.stderr).toBe('cocos-manager-cli: --token and --token-file: give one of them');
    });
  });
});

describe('mTLS identities and roles', () => {
  let pki: TestPki;
  let m: GrpcTestManager;
  const pem = (name: string) => readFileSync(pki.file(name));
  const tlsClient = (name: string) => managerClient(`localhost:${m.port}`, credentials.createSsl(pem('ca.pem'), pem(`${name}.key`), pem(`${name}.pem`)));

  beforeAll(async () => {
    mkdirSync(file('pki'));
    pki = await makeTestPki(file('pki'));
    // Two more identities from the client CA: an admin and one nobody listed.
    for (const [name, cn] of [
      ['ops', 'ops-admin'],
      ['nobody', 'nobody'],
    ]) {
      await pki.issue('client-ca', name, cn);
    }
    m = await startGrpcManager({
      MANAGER_GRPC_HOST: 'localhost',
      MANAGER_GRPC_SERVER_CERT: pki.file('server.pem'),
      MANAGER_GRPC_SERVER_KEY: pki.file('server.key'),
      MANAGER_GRPC_CLIENT_CA_CERTS: pki.file('client-ca.pem'),
      MANAGER_AUTH_MTLS_READERS: 'cocos-cli',
      MANAGER_AUTH_MTLS_ADMINS: 'ops-admin',
    });
  }, 60_000);
  afterAll(async () => {
    await m?.stop();
  });

  it('reader certificate lists but cannot create; admin certificate creates; unlisted one is UNAUTHENTICATED', async () => {
    const reader = tlsClient('client');
    const admin = tlsClient('ops');
    const nobody = tlsClient('nobody');
    try {
      expect(await call(reader, 'ListVms', {})).toEqual({ vms: [], next_page_token: '' });
      await expect(call(reader, 'CreateVm', {})).rejects.toMatchObject({ code: status.PERMISSION_DENIED, details: expect.stringContaining('"cocos-cli"') });
      expect(m.creates()).toBe(0);
      expect(await call(admin, 'CreateVm', {})).toMatchObject({ cvm_id: expect.any(String) });
      expect(m.creates()).toBe(1);
      await expect(call(nobody, 'ListVms', {})).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    } finally {
      [reader, admin, nobody].forEach((c) => c.close());
    }
  });

  it('the CLI with a reader certificate: list-vms works, create-vm is PERMISSION_DENIED', async () => {
    const tls = ['--server-url', `localhost:${m.port}`, '--ca', pki.file('ca.pem'), '--cert', pki.file('client.pem'), '--key', pki.file('client.key')];
    const list = await execa('node', [CLI, ...tls, '--json', 'list-vms'], { reject: false });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveLength(1);
    const create = await execa('node', [CLI, ...tls, 'create-vm'], { reject: false });
    expect([create.exitCode, /PERMISSION_DENIED/.test(create.stderr)]).toEqual([1, true]);
  });
});

describe('tokens stay out of the log', () => {
  it('neither a valid nor a wrong token appears in any log line, at debug level', async () => {
    const lines: string[] = [];
    const tokens = secretFile('log-tokens', `reader ci-reader ${READER}\nadmin ops ${ADMIN}\n`);
    const wrong = 'w'.repeat(40);
    const manager = Manager.create({
      plugins: [inertBackendPlugin, grpcTransportPlugin],
      env: {
        MANAGER_GRPC_HOST: '127.0.0.1',
        MANAGER_GRPC_PORT: '0',
        MANAGER_RUN_DIR: file('log-run'),
        MANAGER_STATE_DIR: file('log-state'),
        MANAGER_AUTH_TOKENS_FILE: tokens,
        MANAGER_QEMU_DISK_IMG_KERNEL_FILE: tokens,
        MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: tokens,
        COCOS_JAEGER_TRACE_RATIO: '0',
      },
      logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }),
    });
    await manager.start();
    const port = manager.container.resolveAll<GrpcTransport>(TRANSPORT)[0]!.port();
    const client = managerClient(`127.0.0.1:${port}`);
    try {
      await expect(call(client, 'ListVms', {}, bearer(wrong))).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
      await expect(call(client, 'CreateVm', {}, bearer(READER))).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      expect(await call(client, 'ListVms', {}, bearer(ADMIN))).toEqual({ vms: [], next_page_token: '' });
    } finally {
      client.close();
      await manager.stop();
    }
    expect(lines.some((l) => l.includes('PERMISSION_DENIED'))).toBe(true);
    for (const token of [READER, ADMIN, wrong]) expect(lines.filter((l) => l.includes(token))).toEqual([]);
  });
});
