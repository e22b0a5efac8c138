import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManager, type RunningManager } from './harness.js';
import { expectDescribedByOpenApi } from './openapi-check.js';

/**
 * The OpenAPI document of the real binary (every plugin loaded, the web
 * console's pages among them), and the check every e2e HTTP response goes
 * through (openapi-check.ts) refusing what the document does not describe.
 */
describe('the HTTP API description of cocos-manager', () => {
  let m: RunningManager;
  beforeAll(async () => {
    m = await startManager('7220-7224');
  });
  afterAll(() => m?.dispose());

  it('/openapi.json is a valid OpenAPI 3.1 document of this build', async () => {
    const res = await m.http('GET', '/openapi.json');
    const result = await new Validator().validate(res.json as never);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(res.json).toMatchObject({ openapi: '3.1.0', info: { version: ((await m.http('GET', '/health')).json as { version: string }).version } });
    // The console's page files are served, but are no API operation.
    expect((await fetch(`http://127.0.0.1:${m.httpPort}/console/`)).status).toBe(200);
    expect(Object.keys((res.json as { paths: object }).paths).filter((p) => p.startsWith('/console'))).toEqual([]);
  });

  it('the response check refuses what the document does not describe', async () => {
    const health = await m.http('GET', '/health');
    const check = (url: string, status: number, contentType: string | null, json: unknown, method = 'GET') =>
      expectDescribedByOpenApi(m.httpPort, method, url, { status, contentType, json, text: JSON.stringify(json) });
    await expect(check('/health', 200, 'application/health+json', health.json)).resolves.toBeUndefined();
    await expect(check('/health', 200, 'application/health+json', { ...(health.json as object), surprise: 1 })).rejects.toThrow(
      /does not match \/openapi\.json:\n {2}\/ must NOT have additional properties .*surprise/,
    );
    await expect(check('/health', 200, 'text/html', health.json)).rejects.toThrow(/content type "text\/html" is not one/);
    await expect(check('/vms', 200, 'application/json', { vms: [{ id: 'x' }] })).rejects.toThrow(/\/vms\/0 must have required property/);
    await expect(check('/nowhere', 200, 'application/json', {})).rejects.toThrow(/describes no GET \/nowhere/);
    await expect(check('/vms/abc', 204, null, null, 'PUT')).rejects.toThrow(/describes no PUT/);
    // An answer of the error catalogue matches the default response.
    const missing = await m.http('GET', '/vms/00000000-0000-0000-0000-000000000000');
    expect(missing).toMatchObject({ status: 404, json: { error: { code: 'NOT_FOUND' } } });
  });
});
