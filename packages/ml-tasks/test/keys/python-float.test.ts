import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pythonFloatString } from '../../src/internals.js';

// Expected strings are CPython 3.11's str(float(expr)) for each expression.
const TABLE: [number, string][] = [
  [0, '0.0'],
  [-0, '-0.0'],
  [1, '1.0'],
  [5, '5.0'],
  [-5, '-5.0'],
  [100, '100.0'],
  [0.1, '0.1'],
  [0.1 + 0.2, '0.30000000000000004'],
  [1 / 3, '0.3333333333333333'],
  [2 / 3, '0.6666666666666666'],
  [1e-4, '0.0001'],
  [1e-4 * 1.1, '0.00011000000000000002'],
  [0.00012345, '0.00012345'],
  [1e-5, '1e-05'],
  [1.5e-5, '1.5e-05'],
  [1e-7, '1e-07'],
  [-1e-7, '-1e-07'],
  [123e-20, '1.23e-18'],
  [1e15, '1000000000000000.0'],
  [9999999999999998, '9999999999999998.0'],
  [2 ** 53, '9007199254740992.0'],
  [2 ** 53 + 2, '9007199254740994.0'],
  [1e16, '1e+16'],
  [1.5e16, '1.5e+16'],
  [123456789012345680, '1.2345678901234568e+17'],
  [1e21, '1e+21'],
  [1e22, '1e+22'],
  [1e100, '1e+100'],
  [1.7976931348623157e308, '1.7976931348623157e+308'],
  [5e-324, '5e-324'],
  [2.2250738585072014e-308, '2.2250738585072014e-308'],
  [-123.456, '-123.456'],
  [12345678.9, '12345678.9'],
  [2.9, '2.9'],
  [6.5, '6.5'],
  [2.675, '2.675'],
  [Number.POSITIVE_INFINITY, 'inf'],
  [Number.NEGATIVE_INFINITY, '-inf'],
  [Number.NaN, 'nan'],
];

describe('pythonFloatString formats as Python 3’s str(float)', () => {
  it.each(TABLE)('%s → %s', (value, expected) => {
    expect(pythonFloatString(value)).toBe(expected);
  });

  it('matches CPython on 400 random doubles and on every magnitude', () => {
    const table = JSON.parse(readFileSync(new URL('./python-repr-table.json', import.meta.url), 'utf8')) as {
      values: string[];
    };
    expect(table.values.length).toBeGreaterThan(600);
    for (const text of table.values) expect(pythonFloatString(Number(text))).toBe(text);
  });

  it('always reads back as the same double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const text = pythonFloatString(value);
        expect(Object.is(Number(text), value)).toBe(true);
        expect(text).toMatch(/^-?\d+(\.\d+)?(e[+-]\d{2,3})?$/);
      }),
      { numRuns: 2000 },
    );
  });
});
