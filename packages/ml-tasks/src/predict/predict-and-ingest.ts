// Score, key and ingest in one streaming pass, for a batch that runs in one process: each chunk is
// scored, keyed as bytes and sent as pre-encoded MSETs while Redis is still applying the previous
// ones, so the CPU work of this process overlaps Redis' own. No per-row key string is built.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { type IngestOptions, type IngestResult, PredictionWriter } from '../ingest/ingest-predictions.js';
import type { NumericTable } from '../io/csv.js';
import { type KeyScheme, keysForRows, PYTHON_TEXT_SCHEME } from '../keys/key-schemes.js';
import { pythonFloatString } from '../keys/python-float.js';
import { RowKeyEncoder } from '../keys/row-key-encoder.js';
import type { XgboostModel } from '../xgboost/xgboost-model.js';
import { featureLayoutOf } from './batch-predict.js';

/** What to score and where to write it. */
export interface PredictAndIngestOptions extends Omit<IngestOptions, 'keyScheme' | 'featureCount' | 'expectedRows'> {
  keyScheme?: KeyScheme;
  /** Class names, index = class (a class without a name is written as its index). */
  classNames?: readonly string[];
  /** Rows per chunk (default 65,536). */
  chunkRows?: number;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/** Scores every row of `table`, keys it and writes `key → label` to Redis, then commits. */
export async function predictAndIngest(
  redis: Redis,
  model: XgboostModel,
  table: NumericTable,
  options: PredictAndIngestOptions,
): Promise<IngestResult> {
  const { classNames: names = [], chunkRows = 65_536, onProgress, signal, keyScheme: scheme, ...ingest } = options;
  const keyScheme = scheme ?? PYTHON_TEXT_SCHEME;
  const layout = featureLayoutOf(model, table, keyScheme);
  const features = { offset: layout.offset, length: model.featureCount };
  const classNames = Array.from(
    { length: Math.max(model.groupCount, 2, names.length) },
    (_, c) => names[c] ?? String(c),
  );
  const writer = await PredictionWriter.open(redis, {
    ...ingest,
    keyScheme,
    featureCount: model.featureCount,
    expectedRows: table.rows,
    ...(model.isClassifier ? { classNames } : {}),
  });
  const encoder = keyScheme.scheme === 'entity-id' ? undefined : new RowKeyEncoder(keyScheme);
  const chunk = Math.max(1, Math.min(chunkRows, table.rows));
  const classes = new Int32Array(chunk);
  const values = new Float64Array(model.isClassifier ? 0 : chunk * model.outputsPerRow);
  const labels = new Array<string>(chunk);
  try {
    for (let start = 0, turn = 0; start < table.rows; start += chunk, turn++) {
      signal?.throwIfAborted();
      const end = Math.min(table.rows, start + chunk);
      const count = end - start;
      const rows = table.data.subarray(start * table.width, end * table.width);
      if (model.isClassifier) {
        model.predictClassesInto(rows, count, classes, layout);
        for (let i = 0; i < count; i++) labels[i] = classNames[classes[i] as number] as string;
      } else {
        model.predictInto(rows, count, values, layout);
        for (let i = 0; i < count; i++) labels[i] = pythonFloatString(values[i * model.outputsPerRow] as number);
      }
      if (encoder) {
        await writer.writeRows(encoder, table.data, table.width, start, end, features, labels);
      } else {
        await writer.write(keysForRows(keyScheme, table, start, end, features), labels, 0, count);
      }
      onProgress?.(end / table.rows);
      if (end < table.rows && turn % 8 === 7) await nextTurn();
    }
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return writer.commit();
}
