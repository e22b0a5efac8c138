import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManager, type RunningManager } from './harness.js';
import { promtoolProblems } from './promtool-lint.js';

/** What the Go manager's operators already watch: its health answer and its two API metric families. */
describe("the Go manager's /health and /metrics, on the real binary", () => {
  let m: RunningManager;
  beforeAll(async () => {
    m = await startManager('6540-6549');
  });
  afterAll(async () => {
    await m?.dispose();
  });

  it('/health answers application/health+json with upstream fields, and ours', async () => {
    const res = await fetch(`http://127.0.0.1:${m.httpPort}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/health\+json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'pass', description: 'manager service', commit: expect.any(String), build_time: expect.any(String), vms: 0 });
    expect(body['version']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(body['instance_id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('/metrics carries manager_api_request_count and manager_api_request_latency_microseconds by upstream method name', async () => {
    const calls: Array<[string, unknown]> = [
      ['CreateVm', { ttl: 'soon' }],
      ['RemoveVm', { cvm_id: 'nope' }],
      ['RemoveVm', { cvm_id: 'nope' }],
      ['AttestationPolicy', { id: 'nope' }],
      ['CVMInfo', { id: 'nope' }],
      ['ListVms', {}],
    ];
    for (const [method, request] of calls) await m.call(method, request).catch(() => undefined);
    const text = (await m.http('GET', '/metrics')).text;
    expect(text).toContain('# TYPE manager_api_request_count counter');
    expect(text).toContain('# TYPE manager_api_request_latency_microseconds summary');
    const counts: Record<string, string> = { Run: '1', Stop: '2', FetchAttestationPolicy: '1', ReturnCVMInfo: '1' };
    for (const [method, n] of Object.entries(counts)) {
      expect(text).toMatch(new RegExp(`^manager_api_request_count\\{method="${method}"\\} ${n}$`, 'm'));
      expect(text).toMatch(new RegExp(`^manager_api_request_latency_microseconds_count\\{method="${method}"\\} ${n}$`, 'm'));
      expect(text).toMatch(new RegExp(`^manager_api_request_latency_microseconds_sum\\{method="${method}"\\} [0-9.e-]+$`, 'm'));
    }
    // Our own extensions are not upstream methods.
    expect(text).not.toMatch(/manager_api_request_count\{method="ListVms"\}/);
    // promtool's only remarks are on upstream's own names (no _total suffix, "microseconds"), kept for its dashboards.
    expect(await promtoolProblems(text)).toEqual([]);
  });
});
