import { createHash } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { credentials, loadPackageDefinition, Metadata, type GrpcObject, type ServiceClientConstructor, type ClientReadableStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManagerProto } from '@cocos-manager/contract';
import { promtoolProblems } from './promtool-lint.js';
import {
  dirEntries,
  parseGuestAnswer,
  pidsWithArg,
  portIsBindable,
  processState,
  REPO,
  startManager,
  until,
  waitForGuest,
  type RunningManager,
} from './harness.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** Collects server-sent events from /events until stopped. */
function sse(port: number, query = ''): { events: Array<{ event: string; data: Record<string, unknown> }>; close(): void; ready: Promise<void> } {
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  let request: http.ClientRequest;
  const ready = new Promise<void>((resolve, reject) => {
    request = http.get(`http://127.0.0.1:${port}/events${query}`, (res) => {
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
        }
      });
      resolve();
    });
    request.on('error', reject);
  });
  return { events, ready, close: () => request.destroy() };
}

describe('transport-http and live events against the real binary', () => {
  let m: RunningManager;
  beforeAll(async () => {
    m = await startManager('6450-6459', { MANAGER_VM_POWERDOWN_TIMEOUT: '2s', MANAGER_INSTANCE_ID: 'test-instance-1' });
  });
  afterAll(async () => {
    await m?.dispose();
  });

  it('GET /health', async () => {
    const res = await m.http('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'pass', version: '0.1.0', instance_id: 'test-instance-1' });
  });

  it('REST create → the guest answers → REST delete, leaving nothing; SSE and gRPC WatchEvents see it all', async () => {
    const stream = sse(m.httpPort);
    await stream.ready;
    const { ManagerService } = loadManagerProto();
    const client = new ManagerService(`127.0.0.1:${m.grpcPort}`, credentials.createInsecure());
    const watched: Array<Record<string, string>> = [];
    const watch = (client as unknown as { WatchEvents(req: object): ClientReadableStream<Record<string, string>> }).WatchEvents({
      vm_id: '',
      lifecycle_only: false,
    });
    watch.on('data', (e) => watched.push(e));
    watch.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 200));

    const cert = `rest certificate ${Date.now()}\n`;
    const created = await m.http('POST', '/vms', { agent_cvm_client_cert: Buffer.from(cert).toString('base64'), aws_region: 'eu-north-1' });
    expect(created.status).toBe(201);
    const { cvm_id: id, forwarded_port: port } = created.json as { cvm_id: string; forwarded_port: string };
    const answer = parseGuestAnswer(await waitForGuest(Number(port)));
    expect(answer).toMatchObject({ AGENT_CVM_ID: id, CERT_SHA256: sha256(cert) });
    expect(answer['ENV_KEYS']).toContain('AWS_REGION');

    expect((await m.http('GET', `/vms/${id}`)).json).toMatchObject({ id, state: 'running', forwarded_port: port });
    expect((await m.http('GET', '/vms')).json).toMatchObject({ vms: [{ id }] });
    expect((await m.http('GET', `/vms/${id}/info`)).json).toMatchObject({ id, cpu_num: 1, cpu_type: 'EPYC' });
    const consoleText = (await m.http('GET', `/vms/${id}/console`)).text;
    expect(consoleText).toContain(`dev-guest: agent listening on 7002 for ${id}`);

    const pid = (await m.http('GET', `/vms/${id}`)).json as { pid: number };
    expect((await m.http('DELETE', `/vms/${id}`)).status).toBe(204);
    expect(processState(pid.pid)).toBeNull();
    expect(dirEntries(m.runDir)).toEqual([]);
    expect(await portIsBindable(Number(port))).toBe(true);
    expect((await m.http('DELETE', `/vms/${id}`)).status).toBe(404);

    await until(() => stream.events.some((e) => e.event === 'lifecycle' && e.data['vmId'] === id && e.data['state'] === 'stopped'), 3000, 'SSE stopped');
    stream.close();
    const states = stream.events.filter((e) => e.event === 'lifecycle' && e.data['vmId'] === id).map((e) => e.data['state']);
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(stream.events.some((e) => e.event === 'console' && e.data['vmId'] === id && String(e.data['line']).includes('agent listening on 7002'))).toBe(true);

    await until(() => watched.some((e) => e['vm_id'] === id && e['state'] === 'stopped'), 3000, 'WatchEvents stopped');
    watch.cancel();
    client.close();
    expect(watched.filter((e) => e['kind'] === 'lifecycle' && e['vm_id'] === id).map((e) => e['state'])).toEqual([
      'starting',
      'running',
      'stopping',
      'stopped',
    ]);
    expect(watched.some((e) => e['kind'] === 'console' && e['vm_id'] === id && e['line']!.includes('agent listening on 7002'))).toBe(true);
  });

  it('console ?follow=1 streams new lines and ends when the VM goes; /events?vm= filters', async () => {
    const other = (await m.http('POST', '/vms', {})).json as { cvm_id: string };
    const vm = (await m.http('POST', '/vms', {})).json as { cvm_id: string; forwarded_port: string };
    const filtered = sse(m.httpPort, `?vm=${vm.cvm_id}&console=0`);
    await filtered.ready;
    let followed = '';
    const ended = new Promise<void>((resolve) => {
      http.get(`http://127.0.0.1:${m.httpPort}/vms/${vm.cvm_id}/console?follow=1`, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => (followed += c));
        res.on('end', resolve);
      });
    });
    await waitForGuest(Number(vm.forwarded_port));
    await until(() => followed.includes(`agent listening on 7002 for ${vm.cvm_id}`), 5000, 'the followed console line');
    await m.http('DELETE', `/vms/${vm.cvm_id}`);
    await ended; // the stream closes by itself when the VM stops
    await m.http('DELETE', `/vms/${other.cvm_id}`);
    await new Promise((r) => setTimeout(r, 300));
    filtered.close();
    expect(new Set(filtered.events.map((e) => e.data['vmId']))).toEqual(new Set([vm.cvm_id]));
    expect(filtered.events.every((e) => e.event === 'lifecycle')).toBe(true);
  });

  it('REST bad inputs get the documented codes and change nothing', async () => {
    const before = { processes: pidsWithArg(m.runDir).length, dirs: dirEntries(m.runDir) };
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/vms', { ttl: 'banana' }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/vms', { agent_cvm_client_key: 'not base64!' }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/vms', { agent_log_level: 7 }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/vms', { colour: 'blue' }, 400, 'INVALID_ARGUMENT'],
      ['POST', '/vms', '{"ttl": ', 400, 'INVALID_ARGUMENT'],
      ['GET', '/vms/nope', undefined, 404, 'NOT_FOUND'],
      ['GET', '/vms/nope/info', undefined, 404, 'NOT_FOUND'],
      ['GET', '/vms/nope/console', undefined, 404, 'NOT_FOUND'],
      ['DELETE', '/vms/nope', undefined, 404, 'NOT_FOUND'],
    ];
    for (const [method, url, body, status, code] of cases) {
      const res = await m.http(method, url, body);
      expect({ method, url, status: res.status, code: (res.json as { error?: { code: string } } | null)?.error?.code }).toEqual({ method, url, status, code });
    }
    const vm = (await m.http('POST', '/vms', {})).json as { cvm_id: string };
    expect(await m.http('GET', `/vms/${vm.cvm_id}/attestation-policy`)).toMatchObject({ status: 412, json: { error: { code: 'FAILED_PRECONDITION' } } });
    await m.http('DELETE', `/vms/${vm.cvm_id}`);
    expect({ processes: pidsWithArg(m.runDir).length, dirs: dirEntries(m.runDir) }).toEqual(before);
  });

  it('/metrics passes promtool, and the VM-state gauges follow a real VM', async () => {
    const gauge = async (state: string) =>
      Number(new RegExp(`^manager_vms\\{state="${state}"\\} (\\d+)$`, 'm').exec((await m.http('GET', '/metrics')).text)?.[1]);
    expect(await gauge('running')).toBe(0);
    const vm = (await m.http('POST', '/vms', {})).json as { cvm_id: string };
    expect(await gauge('running')).toBe(1);
    expect((await m.http('GET', '/metrics')).text).toMatch(/^manager_port_pool_in_use 1$/m);
    await m.http('DELETE', `/vms/${vm.cvm_id}`);
    expect(await gauge('running')).toBe(0);
    const metrics = (await m.http('GET', '/metrics')).text;
    expect(metrics).toMatch(/^manager_api_requests_total\{transport="http",method="POST \/vms",code="201"\} \d+$/m);
    expect(metrics).toMatch(/^manager_vm_create_duration_seconds_count\{outcome="created"\} \d+$/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(await promtoolProblems(metrics)).toEqual([]);
  });

  it('gRPC health and server reflection answer', async () => {
    const health = loadPackageDefinition(
      loadSync(path.join(REPO, 'node_modules/grpc-health-check/proto/health/v1/health.proto'), { enums: String }),
    ) as GrpcObject;
    const Health = ((health['grpc'] as GrpcObject)['health'] as GrpcObject)['v1'] as GrpcObject;
    const healthClient = new (Health['Health'] as ServiceClientConstructor)(`127.0.0.1:${m.grpcPort}`, credentials.createInsecure());
    const status = await new Promise((resolve, reject) =>
      (healthClient as unknown as Record<string, (req: object, md: Metadata, cb: (e: Error | null, r: unknown) => void) => void>)['Check']!(
        { service: 'manager.ManagerService' },
        new Metadata(),
        (e, r) => (e ? reject(e) : resolve(r)),
      ),
    );
    expect(status).toEqual({ status: 'SERVING' });
    healthClient.close();

    const reflection = loadPackageDefinition(
      loadSync(path.join(REPO, 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'), { keepCase: true }),
    ) as GrpcObject;
    const v1 = ((reflection['grpc'] as GrpcObject)['reflection'] as GrpcObject)['v1'] as GrpcObject;
    const reflClient = new (v1['ServerReflection'] as ServiceClientConstructor)(`127.0.0.1:${m.grpcPort}`, credentials.createInsecure());
    const call = (reflClient as unknown as { ServerReflectionInfo(): NodeJS.ReadWriteStream & { write(o: object): void; end(): void } }).ServerReflectionInfo();
    const answer = new Promise<{ list_services_response: { service: Array<{ name: string }> } }>((resolve, reject) => {
      call.on('data', resolve);
      // Before the answer, an error fails the test; after it, closing the client may drop the stream (not an error of the server's).
      call.on('error', reject);
    });
    call.write({ list_services: '' });
    const services = (await answer).list_services_response.service.map((s) => s.name);
    call.end();
    reflClient.close();
    expect(services).toEqual(expect.arrayContaining(['manager.ManagerService', 'grpc.health.v1.Health']));
  });
});

describe('resource exhaustion over REST', () => {
  it('429 at MANAGER_MAX_VMS, 503 when no port is free', async () => {
    const m = await startManager('6460-6460', { MANAGER_MAX_VMS: '1', MANAGER_VM_POWERDOWN_TIMEOUT: '0s' });
    try {
      const first = await m.http('POST', '/vms', {});
      expect(first.status).toBe(201);
      expect(await m.http('POST', '/vms', {})).toMatchObject({ status: 429, json: { error: { code: 'RESOURCE_EXHAUSTED' } } });
      await m.http('DELETE', `/vms/${(first.json as { cvm_id: string }).cvm_id}`);
    } finally {
      await m.dispose();
    }
    const squatter = http.createServer();
    await new Promise<void>((r) => squatter.listen(6461, '0.0.0.0', r));
    const m2 = await startManager('6461-6461', { MANAGER_VM_POWERDOWN_TIMEOUT: '0s' });
    try {
      expect(await m2.http('POST', '/vms', {})).toMatchObject({
        status: 503,
        json: { error: { code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('no free host port') } },
      });
      expect(dirEntries(m2.runDir)).toEqual([]);
    } finally {
      await m2.dispose();
      squatter.close();
    }
  });
});
