import { describe, expect, it } from 'vitest';
import {
  entityIdKey,
  fixedPointKey,
  keyForLookup,
  keySchemeSchema,
  keysForRows,
  pythonText,
  pythonTextKey,
} from '../../src/index.js';

// Expected hashes computed with CPython: hashlib.sha256(' '.join(str(v) for v in row).encode()).hexdigest()
// and, for fixed point with 1 decimal, ' '.join(str(int(round(v * 10))) for v in row).
const ROWS: { row: number[]; text: string; key: string; fixedPoint: string }[] = [
  {
    row: [5.0, 2.9, 1.1, 0.4],
    text: '5.0 2.9 1.1 0.4',
    key: 'd8c77d145fb8bc961f190b590e08a4056a61ece47304cae94d1f6d2c9e69d7da',
    fixedPoint: '42df7acad34a0575c299cf3a5e87228c9733343068da68840ce05d9e60cdcbca',
  },
  {
    row: [6.5, 2.8, 4.7, 1.8],
    text: '6.5 2.8 4.7 1.8',
    key: '9fd5e3c709749836f5822e01e18a519f0d7eaff0ee1434d307aefb4eb5f02aab',
    fixedPoint: 'd7e3cc95762ba5ab99d790c98b306aac7af6e504c734dadb668cae0605b81069',
  },
  {
    row: [5.7, 3.7, 1.6, -0.0],
    text: '5.7 3.7 1.6 -0.0',
    key: '415a35f860cca07ed82437259c71f99c7520def0fe3f2723e42048c978218dfd',
    fixedPoint: '0fdbc3bf01336a99f7ab86013b752b506016c61eddc94d05dc94527a48f553d9',
  },
  {
    row: [0.1 + 0.2, 1e-7, 1e16, -0.0],
    text: '0.30000000000000004 1e-07 1e+16 -0.0',
    key: '3386ed031d675bee9513f438203406a127514e3aa2c46fb5a8720cae37868745',
    // Python's int(round(1e16 * 10)) is exact; a JS double past 2^53 is not, so our key refuses it.
    fixedPoint: 'c5de8ab7b4a73a363ade7f0825c97fda774f7f4512c41384463794d9a7c156dd',
  },
];

describe('python-text keys (the original example’s scheme)', () => {
  it('keys [5.0, 2.9, 1.1, 0.4] as the original did', () => {
    expect(pythonTextKey([5.0, 2.9, 1.1, 0.4])).toBe(
      'd8c77d145fb8bc961f190b590e08a4056a61ece47304cae94d1f6d2c9e69d7da',
    );
  });

  it.each(ROWS)('$text', ({ row, text, key }) => {
    expect(pythonText(row)).toBe(text);
    expect(pythonTextKey(row)).toBe(key);
    expect(pythonTextKey(Float64Array.from([9, ...row, 9]), 1, 4)).toBe(key);
  });

  it('keeps 0.0 and -0.0 apart, as Python’s str does', () => {
    expect(pythonTextKey([5.7, 3.7, 1.6, 0])).not.toBe(pythonTextKey([5.7, 3.7, 1.6, -0]));
  });
});

describe('fixed-point keys', () => {
  it.each(ROWS.slice(0, 3))('$text at 1 decimal', ({ row, fixedPoint }) => {
    expect(fixedPointKey(row, 1)).toBe(fixedPoint);
  });

  it('keys integers beyond 2^53 only when exact: 1e16 at 1 decimal is refused, at 0 decimals kept', () => {
    const row = ROWS[3]!.row;
    expect(() => fixedPointKey(row, 1)).toThrow(/does not fit a safe integer/);
    expect(() => fixedPointKey([0.3, 1e-7, 1e15, -0], 0)).not.toThrow();
  });

  it('does not depend on float formatting: 0.1+0.2 and 0.3, -0.0 and 0.0 share a key', () => {
    expect(fixedPointKey([0.1 + 0.2, 1], 1)).toBe(fixedPointKey([0.3, 1], 1));
    expect(fixedPointKey([-0, 1], 2)).toBe(fixedPointKey([0, 1], 2));
  });

  it('rounds halves away from zero and refuses values past a safe integer', () => {
    expect(fixedPointKey([0.25], 1)).toBe(fixedPointKey([0.3], 1));
    expect(fixedPointKey([-0.25], 1)).toBe(fixedPointKey([-0.3], 1));
    expect(() => fixedPointKey([1e300], 2)).toThrow(expect.objectContaining({ code: 'KEY_SCHEME' }));
  });
});

describe('entity-id keys and scheme config', () => {
  it('writes integer ids without a decimal point and keeps strings', () => {
    expect(entityIdKey(42)).toBe('42');
    expect(entityIdKey('customer-7')).toBe('customer-7');
    expect(() => entityIdKey(4.5)).toThrow(/not an integer id/);
  });

  it('keys table rows by scheme, resolving a named id column', () => {
    const table = {
      data: [7, 5.0, 2.9, 1.1, 0.4, 8, 6.5, 2.8, 4.7, 1.8],
      rows: 2,
      width: 5,
      columns: ['id', 'a', 'b', 'c', 'd'],
    };
    expect(keysForRows({ scheme: 'entity-id', column: 'id' }, table)).toEqual(['7', '8']);
    expect(keysForRows({ scheme: 'python-text' }, table, 0, 2, { offset: 1, length: 4 })).toEqual([
      ROWS[0]!.key,
      ROWS[1]!.key,
    ]);
    expect(() => keysForRows({ scheme: 'entity-id', column: 'nope' }, table)).toThrow(/no column named 'nope'/);
  });

  it('hashes a lookup exactly as the ingest keyed the row', () => {
    expect(keyForLookup({ scheme: 'python-text' }, { features: [5, 2.9, 1.1, 0.4] })).toBe(ROWS[0]!.key);
    expect(keyForLookup({ scheme: 'entity-id', column: 0 }, { id: 12 })).toBe('12');
    expect(() => keyForLookup({ scheme: 'python-text' }, { id: 12 })).toThrow(/needs the entity-id scheme/);
  });

  it('validates scheme configs with zod', () => {
    expect(keySchemeSchema.parse({ scheme: 'fixed-point', decimals: 1 })).toEqual({
      scheme: 'fixed-point',
      decimals: 1,
    });
    expect(keySchemeSchema.safeParse({ scheme: 'fixed-point' }).success).toBe(false);
    expect(keySchemeSchema.safeParse({ scheme: 'md5' }).success).toBe(false);
  });
});
