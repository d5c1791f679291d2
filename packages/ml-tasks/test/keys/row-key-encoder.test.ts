import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixedPointKey, pythonTextKey } from '../../src/index.js';
import { pythonFloatString } from '../../src/internals.js';
import { RowKeyEncoder, writePythonFloat } from '../../src/keys/row-key-encoder.js';
import { ShortSha256 } from '../../src/keys/short-sha256.js';

const decimalValues = fc
  .tuple(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: 0, max: 4 }))
  .map(([mantissa, decimals]) => mantissa / 10 ** decimals);
const anyValue = fc.oneof(
  decimalValues,
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    0.1 + 0.2,
    1e-3,
    9.995e-4,
    1e12,
    999_999_999_999.999,
    2.675,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ),
);

describe('the byte-level key encoder', () => {
  it('writes exactly pythonFloatString for every double', () => {
    const out = new Uint8Array(64);
    fc.assert(
      fc.property(anyValue, (value) => {
        const end = writePythonFloat(value, out, 0);
        expect(Buffer.from(out.subarray(0, end)).toString('latin1')).toBe(pythonFloatString(value));
      }),
      { numRuns: 20_000 },
    );
  });

  it.each([true, false])(
    'hashes like node:crypto for every length, across block boundaries (unrolled: %s)',
    (unrolled) => {
      const sha = new ShortSha256({ unrolled });
      const out = Buffer.alloc(70);
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 0, maxLength: 200 }),
          fc.integer({ min: 0, max: 6 }),
          (bytes, offset) => {
            sha.hashHexInto(bytes, 0, bytes.length, out, offset);
            expect(out.toString('latin1', offset, offset + 64)).toBe(createHash('sha256').update(bytes).digest('hex'));
          },
        ),
        { numRuns: 1000 },
      );
    },
  );

  it('keys rows exactly as pythonTextKey and fixedPointKey, with a prefix and wider rows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(decimalValues, { minLength: 5, maxLength: 5 }), { minLength: 1, maxLength: 20 }),
        (rows) => {
          const data = Float64Array.from(rows.flat());
          const text = new RowKeyEncoder({ scheme: 'python-text' }, { prefix: 'p:' });
          const keys = text.strings(data, 5, 0, rows.length, { offset: 1, length: 4 });
          rows.forEach((row, i) => {
            expect(keys[i]).toBe(`p:${pythonTextKey(row.slice(1))}`);
          });
          const fixed = new RowKeyEncoder({ scheme: 'fixed-point', decimals: 2 }).strings(data, 5, 0, rows.length);
          rows.forEach((row, i) => {
            expect(fixed[i]).toBe(fixedPointKey(row, 2));
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
