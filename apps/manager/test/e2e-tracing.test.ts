import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { credentials, Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManagerProto } from '@cocos-manager/contract';
import { startManager, until, type RunningManager } from './harness.js';

interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

/** OTLP/JSON ids are hex; accept base64 too, in case an exporter sends bytes that way. */
const hexId = (id: string) => (/^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex'));

/** A minimal OTLP/HTTP (JSON) trace receiver. */
function otlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, string>> }> }> };
        for (const rs of doc.resourceSpans)
          for (const ss of rs.scopeSpans)
            for (const s of ss.spans) {
              spans.push({
                name: s['name']!,
                traceId: hexId(s['traceId']!),
                spanId: hexId(s['spanId']!),
                parentSpanId: s['parentSpanId'] ? hexId(s['parentSpanId']) : '',
              });
            }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { spans, server };
}

describe('tracing (OpenTelemetry, OTLP/HTTP)', () => {
  const receiver = otlpReceiver();
  let m: RunningManager;
  beforeAll(async () => {
    await new Promise<void>((r) => receiver.server.listen(0, '127.0.0.1', r));
    const port = (receiver.server.address() as AddressInfo).port;
    m = await startManager('6470-6474', {
      COCOS_JAEGER_URL: `http://127.0.0.1:${port}`,
      COCOS_JAEGER_TRACE_RATIO: '1.0',
      MANAGER_TRACE_EXPORT_DELAY: '200ms',
      MANAGER_VM_POWERDOWN_TIMEOUT: '0s',
    });
  });
  afterAll(async () => {
    await m?.dispose();
    receiver.server.close();
  });

  it('exports a CreateVm span whose parent is the trace the gRPC client sent, with lifecycle steps under it', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const { ManagerService } = loadManagerProto();
    const client = new ManagerService(`127.0.0.1:${m.grpcPort}`, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('traceparent', `00-${traceId}-${parentId}-01`);
    const created = await new Promise<{ cvm_id: string }>((resolve, reject) =>
      (client as unknown as Record<string, (r: object, md: Metadata, cb: (e: Error | null, res: { cvm_id: string }) => void) => void>)['CreateVm']!(
        {},
        metadata,
        (e, r) => (e ? reject(e) : resolve(r)),
      ),
    );
    client.close();
    // The steps and the call's own span may come in different export batches: wait for both.
    const arrived = (name: string) => receiver.spans.some((s) => s.traceId === traceId && s.name === name);
    await until(() => arrived('vm.ready') && arrived('manager.ManagerService/CreateVm'), 10_000, 'the spans to arrive');
    const create = receiver.spans.find((s) => s.traceId === traceId && s.name === 'manager.ManagerService/CreateVm');
    expect(create).toBeDefined();
    expect(create!.parentSpanId).toBe(parentId);
    const steps = receiver.spans.filter((s) => s.traceId === traceId && s.parentSpanId === create!.spanId).map((s) => s.name);
    expect(steps).toEqual(expect.arrayContaining(['vm.prepare-files', 'vm.prepare-backend', 'vm.provision-boot', 'vm.spawn', 'vm.ready']));
    await m.http('DELETE', `/vms/${created.cvm_id}`);
  });

  it('continues a trace sent in HTTP headers too', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const res = await fetch(`http://127.0.0.1:${m.httpPort}/vms`, { method: 'GET', headers: { traceparent: `00-${traceId}-${parentId}-01` } });
    expect(res.status).toBe(200);
    await until(() => receiver.spans.some((s) => s.traceId === traceId), 10_000, 'the HTTP span');
    expect(receiver.spans.find((s) => s.traceId === traceId)).toMatchObject({ name: 'HTTP GET /vms', parentSpanId: parentId });
  });
});

describe('tracing without a collector', () => {
  it('does not fill the log with export errors', async () => {
    // Nothing listens on this port: every export fails.
    const m = await startManager('6475-6479', {
      COCOS_JAEGER_URL: 'http://127.0.0.1:9',
      COCOS_JAEGER_TRACE_RATIO: '1.0',
      MANAGER_TRACE_EXPORT_DELAY: '100ms',
      MANAGER_VM_POWERDOWN_TIMEOUT: '0s',
    });
    try {
      const created = await m.http('POST', '/vms', {});
      await m.http('DELETE', `/vms/${(created.json as { cvm_id: string }).cvm_id}`);
      await new Promise((r) => setTimeout(r, 1500));
      expect(m.output()).not.toMatch(/ECONNREFUSED|OTLP|export|opentelemetry/i);
    } finally {
      await m.dispose();
    }
  });
});
