// Loading the batch's inputs by URL: a numeric CSV table and an XGBoost JSON model.
import { XgboostModel, type XgboostModelOptions } from '../xgboost/xgboost-model.js';
import { readBytes, writeBytes } from './blob.js';
import { type CsvOptions, type NumericTable, parseNumericCsv } from './csv.js';
import type { S3Options } from './s3.js';

/** Options for loadCsv: the CSV options (`header` is required) and, for s3:// URLs, S3 settings. */
export interface LoadCsvOptions extends Omit<CsvOptions, 'source'> {
  s3?: S3Options;
}

/** A loaded table and where it came from. */
export interface LoadedTable extends NumericTable {
  url: string;
}

/** Reads a numeric CSV table from a `file:`/path or `s3://bucket/key` URL. */
export async function loadCsv(url: string, options: LoadCsvOptions): Promise<LoadedTable> {
  const bytes = await readBytes(url, options.s3 ? { s3: options.s3 } : {});
  const { s3: _s3, ...csv } = options;
  return { url, ...parseNumericCsv(bytes, { ...csv, source: url }) };
}

/** Reads an XGBoost JSON model from a `file:`/path or `s3://bucket/key` URL. */
export async function loadModel(
  url: string,
  options: { s3?: S3Options } & Omit<XgboostModelOptions, 'source'> = {},
): Promise<XgboostModel> {
  const bytes = await readBytes(url, options.s3 ? { s3: options.s3 } : {});
  return XgboostModel.fromJsonText(new TextDecoder().decode(bytes), {
    source: url,
    ...(options.compile === undefined ? {} : { compile: options.compile }),
  });
}

/** Writes a table as CSV (shortest round-trip numbers, NaN as an empty field). */
export async function saveCsv(url: string, table: NumericTable, options: { s3?: S3Options } = {}): Promise<void> {
  const lines: string[] = [];
  if (table.columns) lines.push(table.columns.join(','));
  for (let row = 0; row < table.rows; row++) {
    const cells: string[] = [];
    for (let column = 0; column < table.width; column++) {
      const value = table.data[row * table.width + column] as number;
      cells.push(Number.isNaN(value) ? '' : Object.is(value, -0) ? '-0' : String(value));
    }
    lines.push(cells.join(','));
  }
  await writeBytes(url, `${lines.join('\n')}\n`, options);
}
