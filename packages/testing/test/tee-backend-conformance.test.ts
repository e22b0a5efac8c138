import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conformanceCase, describeTeeBackendConformance, teeBackendConformanceCases } from '../src/index.js';
import { BROKEN_BACKENDS } from './broken-backends.js';
import { refTeeOptions } from './reference-backend.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ref-tee-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const firmware = path.join(dir, 'ref-tee.fd');
writeFileSync(firmware, 'reference firmware');

// The suite on a backend that keeps every rule: each case passes.
describeTeeBackendConformance(refTeeOptions(firmware));

describe('the TEE backend conformance suite catches a backend that breaks a rule', () => {
  it('has a broken backend for every case', () => {
    const ids = teeBackendConformanceCases(refTeeOptions(firmware)).map((c) => c.id);
    expect([...new Set(BROKEN_BACKENDS.map((b) => b.fails))].sort()).toEqual([...ids].sort());
  });

  it.each(BROKEN_BACKENDS.map((b) => [b.what, b] as const))('%s fails its case', async (_, backend) => {
    const cases = teeBackendConformanceCases(backend.options(firmware));
    await expect(conformanceCase(cases, backend.fails).run(), `case "${backend.fails}"`).rejects.toThrow(backend.saying);
  });
});
