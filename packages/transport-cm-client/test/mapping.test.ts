import { describe, expect, it } from 'vitest';
import { decodeComputationRunReq, encodeComputationRunReq } from '@cocos-manager/contract';
import { createRequestOf, GUEST_CERT_PATHS, manifestOf, parseRunRequest, placeAgentConfig, timestampOf } from '../src/index.js';

const CERT = '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----';
const CA1 = '-----BEGIN CERTIFICATE-----\nCA1\n-----END CERTIFICATE-----\n';
const CA2 = '-----BEGIN CERTIFICATE-----\nCA2\n-----END CERTIFICATE-----';

describe('a run request as a VM and a manifest', () => {
  it("PEM fields go to the certs share and the manifest names their guest paths; paths stay the agent's", () => {
    const placed = placeAgentConfig({
      port: '7002',
      host: '0.0.0.0',
      cert_file: CERT,
      key_file: '/opt/agent/key.pem',
      client_ca_file: CA1,
      server_ca_file: CA2,
      log_level: 'warn',
      attested_tls: true,
    });
    expect(Buffer.from(placed.create.agentCvmClientCert).toString()).toBe(CERT);
    expect(placed.create.agentCvmClientKey.byteLength).toBe(0);
    expect(Buffer.from(placed.create.agentCvmServerCaCert).toString()).toBe(`${CA1}${CA2}\n`);
    expect(placed.create.agentLogLevel).toBe('warn');
    expect(placed.manifest).toEqual({
      port: '7002',
      host: '0.0.0.0',
      cert_file: GUEST_CERT_PATHS.cert,
      key_file: '/opt/agent/key.pem',
      client_ca_file: GUEST_CERT_PATHS.ca,
      server_ca_file: GUEST_CERT_PATHS.ca,
      log_level: 'warn',
      attested_tls: true,
    });
  });

  it('a run without agent config: an empty create request (no TTL, no CVMS URL), a manifest with empty agent config', () => {
    const run = decodeComputationRunReq(encodeComputationRunReq({ id: 'c' }));
    expect(createRequestOf(run)).toMatchObject({ agentLogLevel: '', ttl: '', agentCvmServerUrl: '', aaKbsParams: '' });
    const manifest = JSON.parse(manifestOf(run).toString()) as Record<string, unknown>;
    expect(manifest).toEqual({
      id: 'c',
      name: '',
      description: '',
      datasets: [],
      algorithm: null,
      result_consumers: [],
      agent_config: { port: '', host: '', cert_file: '', key_file: '', client_ca_file: '', server_ca_file: '', log_level: '', attested_tls: false },
    });
  });

  it('parse: a run needs a valid id; truncated bytes are corrupt', () => {
    const bytes = encodeComputationRunReq({ id: 'comp', name: 'n'.repeat(100) });
    expect(parseRunRequest(bytes, 'comp')).toMatchObject({ ok: true, run: { id: 'comp' } });
    expect(parseRunRequest(bytes.subarray(0, bytes.length - 10), 'comp')).toMatchObject({
      ok: false,
      id: 'comp',
      reason: expect.stringMatching(/does not parse/),
    });
    expect(parseRunRequest(encodeComputationRunReq({ name: 'no id' }), 'chunks')).toMatchObject({
      ok: false,
      id: 'chunks',
      reason: expect.stringMatching(/no valid computation id/),
    });
    expect(parseRunRequest(encodeComputationRunReq({ id: 'bad\u0000id' }), 'chunks')).toMatchObject({ ok: false, id: 'chunks' });
  });
});

describe('timestamps', () => {
  it('RFC 3339 to a protobuf Timestamp, nanoseconds kept; null for what does not parse', () => {
    expect(timestampOf('2025-01-02T03:04:05.123456789Z')).toEqual({ seconds: '1735787045', nanos: 123456789 });
    expect(timestampOf('2025-01-02T03:04:05Z')).toEqual({ seconds: '1735787045', nanos: 0 });
    expect(timestampOf('2025-01-02T04:04:05.5+01:00')).toEqual({ seconds: '1735787045', nanos: 500_000_000 });
    expect(timestampOf('yesterday')).toBeNull();
  });
});
