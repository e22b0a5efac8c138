import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

/**
 * cbor-extract (cbor-x's native string decoder) is compiled at set-up
 * (scripts/build-native-addons.sh), not fetched: it must load on the runtime
 * running the tests — the pinned Node 24, and Node 22 in `npm run test:node22`.
 */
describe('native addons', () => {
  it('cbor-x decodes through cbor-extract on this runtime', () => {
    const cbor = require('cbor-x') as typeof import('cbor-x');
    expect(cbor.isNativeAccelerationEnabled, `cbor-extract did not load on Node ${process.version}`).toBe(true);
    const value = { name: 'urn:cocos-manager:measurement:' + 'a'.repeat(96), tags: ['sev-snp', 'tdx', 'plain'] };
    expect(cbor.decode(cbor.encode(value))).toEqual(value);
  });

  it('cbor-extract is built as plain Node-API: no V8 C++ symbol ties it to one Node version', () => {
    const addon = path.join(path.dirname(require.resolve('cbor-extract/package.json')), 'build/Release/extract.node');
    const undefinedSymbols = execFileSync('nm', ['-D', '--undefined-only', addon], { encoding: 'utf8' });
    expect(undefinedSymbols).toContain('napi_create_string_utf8');
    expect(undefinedSymbols.split('\n').filter((line) => line.includes('_ZN2v8'))).toEqual([]);
  });
});
