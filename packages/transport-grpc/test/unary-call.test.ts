import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, status } from '@grpc/grpc-js';
import { emptyCreateVmRequest, VM_SERVICE, type VmApi } from '@cocos-manager/core';
import { call, managerClient, startGrpcManager, type GrpcTestManager, type ManagerClient } from './harness.js';

// Reads served from memory (CVMInfo, ListVms) answer without a promise; the rest as before. Both paths, and a
// call that continues a caller's trace, answer and fail alike, and are counted alike.
describe('unary calls answered at once and through a promise', () => {
  let m: GrpcTestManager;
  let client: ManagerClient;
  let id: string;
  beforeAll(async () => {
    m = await startGrpcManager();
    client = managerClient(`127.0.0.1:${m.port}`);
    id = (await m.manager.container.resolve<VmApi>(VM_SERVICE).create(emptyCreateVmRequest())).id;
  });
  afterAll(async () => {
    client.close();
    await m.stop();
  });
  const traced = () => {
    const md = new Metadata();
    md.set('traceparent', `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`);
    return md;
  };

  it.each([
    ['untraced', () => new Metadata()],
    ['continuing a caller trace', traced],
  ])('%s: an answer, a failure with its code, and both counted', async (_how, metadata) => {
    const ok = await m.metric('manager_api_requests_total', { transport: 'grpc', method: 'CVMInfo', code: 'OK' });
    const missing = await m.metric('manager_api_requests_total', { transport: 'grpc', method: 'CVMInfo', code: 'NOT_FOUND' });
    expect(await call(client, 'CVMInfo', { id }, metadata())).toMatchObject({ id });
    // The service throws before any promise exists: the caller still gets NOT_FOUND with the catalogue's code.
    await expect(call(client, 'CVMInfo', { id: '00000000-0000-4000-8000-000000000000' }, metadata())).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: expect.stringMatching(/^VM_NOT_FOUND: /),
    });
    expect(await call(client, 'ListVms', {}, metadata())).toMatchObject({ vms: [expect.objectContaining({ id })] });
    // GetVm goes through a promise.
    expect(await call(client, 'GetVm', { id }, metadata())).toMatchObject({ id });
    expect(await m.metric('manager_api_requests_total', { transport: 'grpc', method: 'CVMInfo', code: 'OK' })).toBe(ok + 1);
    expect(await m.metric('manager_api_requests_total', { transport: 'grpc', method: 'CVMInfo', code: 'NOT_FOUND' })).toBe(missing + 1);
  });
});
