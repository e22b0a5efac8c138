import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseGoDuration } from '../src/index.js';

describe('Go duration syntax', () => {
  it.each([
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['2h45m10.5s', 9_910_500],
    ['1us', 0.001],
    ['1µs', 0.001],
    ['1000ns', 0.001],
    ['-2m', -120_000],
    ['+3s', 3000],
    ['0', 0],
    ['.5s', 500],
    ['5.s', 5000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', 'banana', '10', '1d', '1h 30m', 's', '.s', '-', '1.2.3s', '3S'])('refuses %j', (text) => {
    expect(() => parseGoDuration(text)).toThrow(/expected a Go duration/);
  });

  it('is additive over concatenation of parts', () => {
    const part = fc.tuple(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom('h', 'm', 's', 'ms'));
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
        const text = parts.map(([n, u]) => `${n}${u}`).join('');
        const sum = parts.reduce((acc, p) => acc + parseGoDuration(`${p[0]}${p[1]}`), 0);
        expect(parseGoDuration(text)).toBeCloseTo(sum, 6);
      }),
    );
  });
});
