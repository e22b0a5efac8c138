import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metadata, status } from '@grpc/grpc-js';
import { emptyCreateVmRequest, VM_SERVICE, type VmApi } from '@cocos-manager/core';
import { call, managerClient, startGrpcManager, type GrpcTestManager, type ManagerClient } from './harness.js';

// Reads served from memory (CVMInfo, ListVms) answer without a promise; the rest through one. Both paths, and a
// call that continues a caller's trace (run inside a span), answer and fail alike, and are counted alike.
const TRACE_ID = 'ab'.repeat(16);

/** The names of the spans an OTLP/HTTP (JSON) receiver got for TRACE_ID. */
function otlpReceiver() {
  const names: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const doc = JSON.parse(body || '{}') as { resourceSpans?: Array<{ scopeSpans: Array<{ spans: Array<{ name: string; traceId: string }> }> }> };
      for (const rs of doc.resourceSpans ?? [])
        for (const ss of rs.scopeSpans) for (const s of ss.spans) if (s.traceId.toLowerCase() === TRACE_ID) names.push(s.name);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { names, server };
}

describe('unary calls answered at once and through a promise', () => {
  let m: GrpcTestManager;
  let client: ManagerClient;
  let id: string;
  const receiver = otlpReceiver();
  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    const port = (receiver.server.address() as AddressInfo).port;
    // Ratio 0: only a call that sends a trace is run in a span.
    m = await startGrpcManager({ COCOS_JAEGER_URL: `http://127.0.0.1:${port}`, COCOS_JAEGER_TRACE_RATIO: '0', MANAGER_TRACE_EXPORT_DELAY: '100ms' });
    client = managerClient(`127.0.0.1:${m.port}`);
    id = (await m.manager.container.resolve<VmApi>(VM_SERVICE).create(emptyCreateVmRequest())).id;
  });
  afterAll(async () => {
    client.close();
    await m.stop();
    receiver.server.close();
  });
  const traced = () => {
    const md = new Metadata();
    md.set('traceparent', `00-${TRACE_ID}-${'cd'.repeat(8)}-01`);
    return md;
  };

  it.each([
    ['untraced', () => new Metadata(), 0],
    ['continuing a caller trace', traced, 4],
  ])('%s: an answer, a failure with its code, and both counted', async (_how, metadata, spans) => {
    const before = receiver.names.length;
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
    // Each traced call ran in its span, the failing one included; an untraced one in none.
    if (spans > 0) await expect.poll(() => receiver.names.length - before, { timeout: 5000 }).toBe(spans);
    else await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.names.slice(before).sort()).toEqual(
      spans > 0 ? ['manager.ManagerService/CVMInfo', 'manager.ManagerService/CVMInfo', 'manager.ManagerService/GetVm', 'manager.ManagerService/ListVms'] : [],
    );
  });
});
