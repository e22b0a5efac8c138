import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { ERROR_CATALOGUE, ManagerError, TRANSPORT, type Logger } from '@cocos-manager/core';
import { Manager } from '@cocos-manager/core/internal';
import { pino } from 'pino';
import { createInertBackendPlugin } from '@cocos-manager/testing';

/** A create that outlives MANAGER_GRPC_TIMEOUT (300 ms here), then fails. */
const slowBackendPlugin = createInertBackendPlugin({
  prepare: async (vm) => {
    if (vm.request.agentCertsToken === 'slow') {
      await new Promise((r) => setTimeout(r, 600));
      throw new Error('gave up');
    }
  },
});
import { GrpcTransport, grpcTransportPlugin, loadManagerProto, MANAGER_PROTO_PATH, toServiceError } from '../src/index.js';

describe('wire compatibility with the Go manager', () => {
  it('encodes CreateReq with the Go field numbers and types', async () => {
    const root = new protobuf.Root().loadSync(MANAGER_PROTO_PATH, { keepCase: true });
    const CreateReq = root.lookupType('manager.CreateReq');
    const bytes = CreateReq.encode(
      CreateReq.fromObject({ agent_log_level: 'a', agent_cvm_server_ca_cert: Buffer.from([1]), ttl: '9s', aa_kbs_params: 'k' }),
    ).finish();
    // field 1 (string, wire type 2) "a"; field 2 (bytes) 0x01; field 7 (string) "9s"; field 13 (string) "k"
    expect(Buffer.from(bytes).toString('hex')).toBe('0a01611201013a0239736a016b');
  });

  it.each([
    ['manager.CreateRes', { forwarded_port: 1, cvm_id: 2 }],
    ['manager.RemoveReq', { cvm_id: 1 }],
    ['manager.CVMInfoReq', { id: 1 }],
    ['manager.CVMInfoRes', { id: 1, ovmf_version: 2, cpu_num: 3, cpu_type: 4, kernel_cmd: 5, eos_version: 6 }],
    ['manager.AttestationPolicyReq', { id: 1 }],
    ['manager.AttestationPolicyRes', { info: 1, id: 2 }],
  ])('%s keeps its field numbers', async (type, fields) => {
    const message = new protobuf.Root().loadSync(MANAGER_PROTO_PATH, { keepCase: true }).lookupType(type);
    expect(Object.fromEntries(Object.values(message.fields).map((f) => [f.name, f.id]))).toEqual(fields);
  });

  it('keeps the four Go RPCs with their request and response types', async () => {
    const service = new protobuf.Root().loadSync(MANAGER_PROTO_PATH, { keepCase: true }).lookupService('manager.ManagerService');
    const shape = (name: string) => [service.methods[name]?.requestType, service.methods[name]?.responseType];
    expect(shape('CreateVm')).toEqual(['CreateReq', 'CreateRes']);
    expect(shape('RemoveVm')).toEqual(['RemoveReq', 'google.protobuf.Empty']);
    expect(shape('CVMInfo')).toEqual(['CVMInfoReq', 'CVMInfoRes']);
    expect(shape('AttestationPolicy')).toEqual(['AttestationPolicyReq', 'AttestationPolicyRes']);
  });
});

describe('status codes', () => {
  it.each([
    [new ManagerError('REQUEST_FIELD_INVALID', 'bad ttl'), status.INVALID_ARGUMENT],
    [new ManagerError('VM_NOT_FOUND', 'unknown id'), status.NOT_FOUND],
    [new ManagerError('VM_CAPACITY_REACHED', 'VM limit'), status.RESOURCE_EXHAUSTED],
    [new ManagerError('PORTS_EXHAUSTED', 'no port'), status.RESOURCE_EXHAUSTED],
    [new ManagerError('ATTESTATION_UNAVAILABLE', 'host cannot'), status.FAILED_PRECONDITION],
    [new ManagerError('CALL_DEADLINE_EXCEEDED', 'too slow'), status.DEADLINE_EXCEEDED],
    [new ManagerError('CREDENTIALS_REQUIRED', 'no token'), status.UNAUTHENTICATED],
    [new ManagerError('ROLE_INSUFFICIENT', 'reader role'), status.PERMISSION_DENIED],
    [new ManagerError('INTERNAL_ERROR', 'QEMU died'), status.INTERNAL],
  ])('%s → status %i with its code and message', (err, code) => {
    const failure = toServiceError(err);
    expect(failure).toMatchObject({ code, details: `${err.kind}: ${err.message}`, message: `${err.kind}: ${err.message}` });
    expect(failure.metadata?.get('cocos-error-code')).toEqual([err.kind]);
  });

  it('every catalogue entry is the grpc-js status of the same name', () => {
    for (const entry of Object.values(ERROR_CATALOGUE)) expect([entry.code, entry.grpcStatus]).toEqual([entry.code, status[entry.code]]);
  });

  it('an unexpected error is INTERNAL and its text stays out of the answer', () => {
    const failure = toServiceError(new Error('EACCES: /var/lib/cocos/secret'));
    expect(failure).toMatchObject({ code: status.INTERNAL, details: 'INTERNAL_ERROR: internal error', message: 'INTERNAL_ERROR: internal error' });
    expect(failure.metadata?.get('cocos-error-code')).toEqual(['INTERNAL_ERROR']);
  });
});

describe('gRPC server over a real socket', () => {
  let manager: Manager;
  let client: Client & Record<string, (req: unknown, md: Metadata, cb: (err: ServiceError | null, res: unknown) => void) => void>;
  const call = (method: string, req: unknown) =>
    new Promise<unknown>((resolve, reject) => client[method]!(req, new Metadata(), (err, res) => (err ? reject(err) : resolve(res))));

  const runDir = mkdtempSync(path.join(os.tmpdir(), 'cm-grpc-'));
  beforeAll(async () => {
    const logger: Logger = pino({ level: 'silent' });
    manager = Manager.create({
      plugins: [slowBackendPlugin, grpcTransportPlugin],
      env: {
        MANAGER_GRPC_TIMEOUT: '300ms',
        MANAGER_RUN_DIR: runDir,
        MANAGER_STATE_DIR: path.join(runDir, '.state'),
        MANAGER_GRPC_PORT: '0',
        MANAGER_GRPC_HOST: '127.0.0.1',
        MANAGER_QEMU_DISK_IMG_KERNEL_FILE: MANAGER_PROTO_PATH,
        MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: MANAGER_PROTO_PATH,
      },
      logger,
    });
    await manager.start();
    const transport = manager.container.resolveAll<GrpcTransport>(TRANSPORT)[0]!;
    const { ManagerService } = loadManagerProto();
    client = new ManagerService(`127.0.0.1:${transport.port()}`, credentials.createInsecure()) as typeof client;
  });
  afterAll(async () => {
    client?.close();
    await manager?.stop();
    rmSync(runDir, { recursive: true, force: true });
  });

  it('answers DEADLINE_EXCEEDED past MANAGER_GRPC_TIMEOUT, and the failed create still leaves nothing', async () => {
    await expect(call('CreateVm', { agent_certs_token: 'slow' })).rejects.toMatchObject({
      code: status.DEADLINE_EXCEEDED,
      details: expect.stringContaining('MANAGER_GRPC_TIMEOUT'),
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(readdirSync(runDir)).toEqual(['.state']);
    // The running manager's own lock file is no VM state.
    expect(readdirSync(path.join(runDir, '.state')).filter((f) => f !== 'manager.lock')).toEqual([]);
    expect(await call('ListVms', {})).toEqual({ vms: [], next_page_token: '' });
  });

  it('lists no VMs at first', async () => {
    expect(await call('ListVms', {})).toEqual({ vms: [], next_page_token: '' });
  });

  it.each([
    ['CVMInfo', { id: 'nope' }],
    ['AttestationPolicy', { id: 'nope' }],
    ['RemoveVm', { cvm_id: 'nope' }],
    ['GetVm', { id: 'nope' }],
  ])('%s of an unknown id is NOT_FOUND', async (method, req) => {
    const err = (await call(method, req).catch((e: unknown) => e)) as { code: number; details: string; metadata: { get(key: string): unknown[] } };
    expect(err).toMatchObject({ code: status.NOT_FOUND, details: 'VM_NOT_FOUND: no VM with id "nope"' });
    expect(err.metadata.get('cocos-error-code')).toEqual(['VM_NOT_FOUND']);
  });

  it('a bad ttl is INVALID_ARGUMENT with the reason', async () => {
    await expect(call('CreateVm', { ttl: 'banana' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('ttl: invalid duration "banana"'),
    });
  });

  it('an oversized field is INVALID_ARGUMENT', async () => {
    await expect(call('CreateVm', { agent_cvm_client_key: Buffer.alloc(300 * 1024) })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});
