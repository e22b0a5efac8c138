import { describe, expect, it } from 'vitest';
import { fields, table } from '../src/output.js';

describe('human output', () => {
  it('pads table columns to the widest cell', () => {
    expect(
      table(
        ['ID', 'STATE'],
        [
          ['a1', 'running'],
          ['b', 'failed'],
        ],
      ),
    ).toBe('ID  STATE\na1  running\nb   failed');
  });
  it('aligns record keys and shows nested values as JSON', () => {
    expect(fields({ id: 'x', forwarded_port: '6100', exit: { code: 1 } })).toBe('id:             x\nforwarded_port: 6100\nexit:           {"code":1}');
  });
});
