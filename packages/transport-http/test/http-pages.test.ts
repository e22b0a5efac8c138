import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_PAGES, type HttpPages } from '@cocos-manager/core';
import { request, startHttpManager, type HttpManager } from './harness.js';

/** The HTTP_PAGES seam: plugin pages are public files with their own headers; their origin may call the API. */
const ADMIN = 'admin-token-0123456789abcdef0123456789';
const READER = 'reader-token-0123456789abcdef012345678';
const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-http-pages-'));
const pages: HttpPages = {
  prefix: '/ui',
  headers: { 'content-security-policy': "default-src 'self'" },
  file: async (p) => (p === '' ? { body: Buffer.from('<p>index</p>'), contentType: 'text/html; charset=utf-8' } : null),
};

describe('HTTP page contributions', () => {
  let withPages: HttpManager;
  let without: HttpManager;
  beforeAll(async () => {
    const tokens = path.join(dir, 'tokens');
    writeFileSync(tokens, `admin ops ${ADMIN}\nreader audit ${READER}\n`);
    chmodSync(tokens, 0o600);
    const env = { MANAGER_AUTH_TOKENS_FILE: tokens, MANAGER_HTTP_REST_WRITES: 'true' };
    [withPages, without] = await Promise.all([startHttpManager(env, [{ token: HTTP_PAGES, useValue: pages }]), startHttpManager(env)]);
  });
  afterAll(async () => {
    await Promise.all([withPages?.stop(), without?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the files without credentials, with their headers; the prefix redirects to its index', async () => {
    const index = await request(withPages.port, { path: '/ui/' });
    expect(index).toMatchObject({ status: 200, body: '<p>index</p>' });
    expect(index.headers['content-security-policy']).toBe("default-src 'self'");
    expect(await request(withPages.port, { path: '/ui' })).toMatchObject({ status: 302, headers: { location: '/ui/' } });
    const missing = await request(withPages.port, { path: '/ui/nope.js' });
    expect(missing.status).toBe(404);
    expect(missing.headers['content-security-policy']).toBe("default-src 'self'");
    expect((await request(without.port, { path: '/ui/' })).status).toBe(404);
  });

  it('accepts requests from its own origin (scheme and allowed Host), never from another or a rebound name', async () => {
    const port = withPages.port;
    const get = (m: HttpManager, host: string, origin: string) =>
      request(m.port, { path: '/vms', headers: { host, origin, authorization: `Bearer ${READER}` } });
    expect((await get(withPages, `127.0.0.1:${port}`, `http://127.0.0.1:${port}`)).status).toBe(200);
    expect((await get(withPages, `localhost:${port}`, `http://localhost:${port}`)).status).toBe(200);
    expect((await get(withPages, `127.0.0.1:${port}`, `https://127.0.0.1:${port}`)).status).toBe(403);
    expect((await get(withPages, `127.0.0.1:${port}`, 'http://evil.example')).status).toBe(403);
    expect((await get(withPages, `evil.example:${port}`, `http://evil.example:${port}`)).status).toBe(403);
    // Without pages nothing changed: no browser origin at all unless configured.
    expect((await get(without, `127.0.0.1:${without.port}`, `http://127.0.0.1:${without.port}`)).status).toBe(403);
    // A same-origin write still needs the admin role.
    const post = (token: string) =>
      request(port, {
        method: 'POST',
        path: '/vms',
        headers: { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}`, 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: '{}',
      });
    expect((await post(READER)).status).toBe(403);
    expect((await post(ADMIN)).status).toBe(201);
  });

  it('/session names the caller and what it may do; /host the backend, slots and ports', async () => {
    const session = (token: string) => request(withPages.port, { path: '/session', headers: { authorization: `Bearer ${token}` } });
    expect(JSON.parse((await session(READER)).body)).toMatchObject({ identity: 'audit', role: 'reader', can_write: false, auth_enabled: true });
    expect(JSON.parse((await session(ADMIN)).body)).toMatchObject({ identity: 'ops', role: 'admin', can_write: true });
    expect((await request(withPages.port, { path: '/session' })).status).toBe(401);
    const host = JSON.parse((await request(withPages.port, { path: '/host', headers: { authorization: `Bearer ${READER}` } })).body) as Record<string, unknown>;
    expect(host).toMatchObject({
      backend: 'inert',
      probe: { available: true },
      vm_slots: { size: 10 },
      port_pool: { in_use: expect.any(Number) as number },
    });
    // No VM device loaded: nothing but the host's own fields (a device adds its own: device-fields.test.ts).
    expect(Object.keys(host)).toEqual(['version', 'instance_id', 'started_at', 'backend', 'probe', 'kvm', 'vm_slots', 'port_pool', 'rest_writes']);
  });
});
