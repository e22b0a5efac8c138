import Fastify from 'fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagerInfo } from '@cocos-manager/core';
import { ROUTE_DOCS } from '../src/openapi/operations.js';
import { registerOpenApi } from '../src/openapi/openapi.js';
import { startHttpManager, type HttpManager } from './harness.js';

interface OpenApi {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, { security: unknown[]; 'x-required-role': string; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown> };
}

const fetchDocument = async (port: number) => {
  const res = await fetch(`http://127.0.0.1:${port}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as OpenApi;
};
/** `GET /vms/{id}` for each operation of a document. */
const operations = (doc: OpenApi) => Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
const asOpenApiPath = (key: string) => key.replace(/:(\w+)/g, '{$1}');

describe('GET /openapi.json', () => {
  let m: HttpManager;
  let doc: OpenApi;
  beforeAll(async () => {
    m = await startHttpManager({ MANAGER_HTTP_PORT: '0', MANAGER_HTTP_HOST: '127.0.0.1', MANAGER_HTTP_REST_WRITES: 'true' });
    doc = await fetchDocument(m.port);
  });
  afterAll(() => m?.stop());

  it('is an OpenAPI 3.1 document that validates (@seriousme/openapi-schema-validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as never);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(Object.keys(doc.components.schemas).sort()).toEqual([
      'AgentMessage',
      'AgentMessageList',
      'CreateVmRequest',
      'CreatedVm',
      'CvmInfo',
      'Error',
      'Health',
      'Host',
      'Session',
      'Vm',
      'VmList',
    ]);
  });

  it('has exactly the routes the server has, each with the role it needs', () => {
    expect(operations(doc).sort()).toEqual(Object.keys(ROUTE_DOCS).map(asOpenApiPath).sort());
    expect(doc.paths['/health']!['get']).toMatchObject({ security: [], 'x-required-role': 'none' });
    expect(doc.paths['/vms']!['post']).toMatchObject({ 'x-required-role': 'admin' });
    expect(doc.paths['/vms/{id}']!['get']).toMatchObject({ 'x-required-role': 'reader' });
    for (const op of operations(doc)) {
      const [method, p] = op.split(' ');
      expect(Object.keys(doc.paths[p!]![method!.toLowerCase()]!.responses), op).toContain('default');
    }
  });

  it('leaves out the writes when the REST mirror serves none', async () => {
    const readOnly = await startHttpManager({ MANAGER_HTTP_PORT: '0', MANAGER_HTTP_HOST: '127.0.0.1' });
    try {
      const ops = operations(await fetchDocument(readOnly.port));
      expect(ops).not.toContain('POST /vms');
      expect(ops).not.toContain('DELETE /vms/{id}');
      expect(ops).toContain('GET /vms');
    } finally {
      await readOnly.stop();
    }
  });
});

describe('registerOpenApi', () => {
  const info = { version: '9.9.9' } as ManagerInfo;
  const noDevices = { vm: {}, host: {} };

  it('fails the document for a route with no description rather than leave it out', async () => {
    const app = Fastify();
    await registerOpenApi(app, info, noDevices);
    app.get('/health', async () => ({}));
    app.get('/surprise', async () => ({}));
    await app.ready();
    expect(() => app.swagger()).toThrow('the HTTP route GET /surprise has no description in ROUTE_DOCS');
    await app.close();
  });

  it("hides the files of page contributions (public routes with no description) and GET's HEAD twins", async () => {
    const app = Fastify();
    await registerOpenApi(app, info, noDevices);
    app.get('/health', async () => ({}));
    app.get('/console/*', { config: { operation: 'health' } }, async () => '');
    await app.ready();
    const doc = app.swagger() as unknown as OpenApi;
    expect(operations(doc).sort()).toEqual(['GET /health', 'GET /openapi.json']);
    expect(doc.info.version).toBe('9.9.9');
    await app.close();
  });
});
