import { describe, expect, it } from 'vitest';
import { decodeComputationRunReq, encodeComputationRunReq } from '../src/index.js';

describe('ComputationRunReq codec (what RunReqChunks carry)', () => {
  it('round-trips every field, decoded as proto-loader decodes a runReq', () => {
    const run = {
      id: 'comp',
      name: 'n',
      description: 'd',
      datasets: [{ hash: Buffer.alloc(32, 1), userKey: Buffer.from('k'), filename: 'f.csv' }],
      algorithm: { hash: Buffer.alloc(32, 2), userKey: Buffer.from('a') },
      result_consumers: [{ userKey: Buffer.from('r') }],
      agent_config: {
        port: '7002',
        host: 'h',
        cert_file: 'c',
        key_file: 'k',
        client_ca_file: 'cc',
        server_ca_file: 'sc',
        log_level: 'debug',
        attested_tls: true,
      },
    };
    const decoded = decodeComputationRunReq(encodeComputationRunReq(run));
    expect(decoded).toEqual(run);
    expect(Buffer.isBuffer(decoded.datasets[0]?.hash)).toBe(true);
  });

  it('an empty run: every field present, unset messages null', () => {
    expect(decodeComputationRunReq(encodeComputationRunReq({}))).toEqual({
      id: '',
      name: '',
      description: '',
      datasets: [],
      algorithm: null,
      result_consumers: [],
      agent_config: null,
    });
  });

  it('refuses truncated bytes (a length past the end), which a Buffer reader would cut quietly', () => {
    const bytes = encodeComputationRunReq({ id: 'a-computation-id' });
    expect(() => decodeComputationRunReq(bytes.subarray(0, bytes.length - 3))).toThrow(/index out of range/);
    expect(() => decodeComputationRunReq(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow();
  });
});
