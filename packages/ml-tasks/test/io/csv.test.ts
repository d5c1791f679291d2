import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCsv, MlTasksError, parseNumericCsv } from '../../src/index.js';
import { exampleDataDir } from '../support/golden.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function errorOf(action: () => unknown): MlTasksError {
  try {
    action();
  } catch (error) {
    if (error instanceof MlTasksError) return error;
    throw error;
  }
  throw new Error('expected an MlTasksError');
}

describe('parseNumericCsv', () => {
  it('reads a header-less file: every line is a row (the original lost the first one)', () => {
    const table = parseNumericCsv(bytes('5.0,2.9,1.1,0.4\n5.3,3.2,1.6,0.2\n'), { header: false });
    expect(table.rows).toBe(2);
    expect(table.width).toBe(4);
    expect(table.columns).toBeUndefined();
    expect(Array.from(table.data)).toEqual([5.0, 2.9, 1.1, 0.4, 5.3, 3.2, 1.6, 0.2]);
  });

  it('reads a header and selects columns by name or index', () => {
    const text = 'id,sepal_length,sepal_width\r\n7,5.1,3.5\r\n8,4.9,3.0\r\n';
    const table = parseNumericCsv(bytes(text), { header: true, columns: ['sepal_width', 0] });
    expect(table.columns).toEqual(['sepal_width', 'id']);
    expect(Array.from(table.data)).toEqual([3.5, 7, 3.0, 8]);
  });

  it('keeps -0.0, reads missing values as NaN, skips blank lines and a BOM', () => {
    const table = parseNumericCsv(bytes('\ufeff5.7,-0.0\n\n,nan\n NA , 1e3 \n"2.5",-inf\n'), { header: false });
    expect(table.rows).toBe(4);
    expect(Object.is(table.data[1], -0)).toBe(true);
    expect(Number.isNaN(table.data[2])).toBe(true);
    expect(Number.isNaN(table.data[3])).toBe(true);
    expect(Number.isNaN(table.data[4])).toBe(true);
    expect(table.data[5]).toBe(1000);
    expect(table.data[6]).toBe(2.5);
    expect(table.data[7]).toBe(Number.NEGATIVE_INFINITY);
  });

  it('names the file, line and column of a value that is not a number', () => {
    const error = errorOf(() => parseNumericCsv(bytes('1,2\n3,abc\n'), { header: false, source: 'data.csv' }));
    expect(error.code).toBe('CSV_PARSE');
    expect(error.message).toBe("data.csv:2:2: 'abc' is not a number (column 2)");
  });

  it('names the line of a row with the wrong number of values', () => {
    expect(() => parseNumericCsv(bytes('1,2\n3\n'), { header: false, source: 'f.csv' })).toThrow(
      'f.csv:2: expected 2 values, got 1',
    );
    expect(() => parseNumericCsv(bytes('a,b\n1,2\n\n3,4,5\n'), { header: true, source: 'f.csv' })).toThrow(
      'f.csv:4: expected 2 values, got more',
    );
  });

  it('never guesses the header: it is required, and a numeric "header" is refused as data', () => {
    expect(() => parseNumericCsv(bytes('1,2\n'), {} as never)).toThrow(/header: true or false/);
    expect(() => parseNumericCsv(bytes('5.0,2.9\n5.3,3.2\n'), { header: true, source: 'iris.csv' })).toThrow(
      /iris\.csv:1: header: true, but the first line \(5\.0,2\.9\) is all numbers/,
    );
    expect(parseNumericCsv(bytes('2019,2020\n1,2\n'), { header: true, numericHeader: true }).rows).toBe(1);
    expect(() => parseNumericCsv(bytes('x,1\n'), { header: false, source: 'g.csv' })).toThrow(
      "g.csv:1:1: 'x' is not a number (column 1)",
    );
  });

  it('parses numbers exactly as Number() does', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.double({ noNaN: true, noDefaultInfinity: true }),
            fc.integer().map((n) => n / 100),
          ),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        (values) => {
          const line = values.map((value) => (Object.is(value, -0) ? '-0' : String(value))).join(',');
          const table = parseNumericCsv(bytes(`${line}\n`), { header: false });
          values.forEach((value, i) => {
            expect(Object.is(table.data[i], value)).toBe(true);
          });
        },
      ),
      { numRuns: 1000 },
    );
    const decimals = ['0.1', '2.675', '123456789012345', '1234567890123456789', '1e-22', '7e22', '1.5e300', '.5', '5.'];
    for (const text of decimals) expect(parseNumericCsv(bytes(text), { header: false }).data[0]).toBe(Number(text));
  });
});

describe('loadCsv from files', () => {
  it('loads all 1,050 rows of the example’s iris.csv by path and by file: URL', async () => {
    const byPath = await loadCsv(`${exampleDataDir}iris.csv`, { header: false });
    expect(byPath.rows).toBe(1050);
    expect(byPath.width).toBe(4);
    expect(Array.from(byPath.data.subarray(0, 4))).toEqual([5.0, 2.9, 1.1, 0.4]);
    const byUrl = await loadCsv(pathToFileURL(`${exampleDataDir}iris.csv`).href, { header: false });
    expect(byUrl.data).toEqual(byPath.data);
  });

  it('reports a missing file as LOAD_FAILED and a bad row with the file and line', async () => {
    await expect(loadCsv('/nonexistent/iris.csv', { header: false })).rejects.toMatchObject({ code: 'LOAD_FAILED' });
    const dir = mkdtempSync(join(tmpdir(), 'batuta-csv-'));
    const path = join(dir, 'bad.csv');
    writeFileSync(path, '1,2\n3,4\n5,six\n');
    await expect(loadCsv(`file:${path}`, { header: false })).rejects.toThrow(`file:${path}:3:2: 'six' is not a number`);
  });

  it('refuses URLs it cannot read', async () => {
    await expect(loadCsv('https://example.com/iris.csv', { header: false })).rejects.toMatchObject({
      code: 'UNSUPPORTED_URL',
    });
  });
});
