// Batch prediction over a numeric table: one partition of the rows (so N workers can share a big
// batch), scored in chunks (progress is reported and the event loop breathes between chunks), each
// row turned into its key under the scheme and its label (class name, or the value of a regression).
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MlTasksError } from '../errors.js';
import type { NumericTable } from '../io/csv.js';
import { entityColumnIndex, type KeyScheme, keysForRows, PYTHON_TEXT_SCHEME } from '../keys/key-schemes.js';
import { pythonFloatString } from '../keys/python-float.js';
import type { FeatureLayout, XgboostModel } from '../xgboost/xgboost-model.js';

/** How to run a batch prediction. */
export interface BatchPredictOptions {
  keyScheme?: KeyScheme;
  /** Class names, index = class; a class without a name is written as its index. */
  classNames?: readonly string[];
  /** Rows per chunk (default 65,536). */
  chunkRows?: number;
  /** This partition's index in [0, partitions) (default 0). */
  partition?: number;
  /** How many partitions share the table (default 1). */
  partitions?: number;
  /** Called with the fraction done after every chunk. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/** One partition's predictions: `keys[i]` → `labels[i]` for table rows [startRow, endRow). */
export interface BatchPredictions {
  partition: number;
  partitions: number;
  startRow: number;
  endRow: number;
  rows: number;
  keys: string[];
  labels: string[];
  /** How many rows got each label. */
  counts: Record<string, number>;
}

/** Rows [start, end) of partition `partition` of `partitions` over `rows` rows (sizes differ by at most one). */
export function partitionRange(rows: number, partition: number, partitions: number): { start: number; end: number } {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new MlTasksError('INVALID_ARGUMENT', `partitions must be a positive integer, got ${partitions}`);
  }
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
    throw new MlTasksError('INVALID_ARGUMENT', `partition ${partition} is outside 0..${partitions - 1}`);
  }
  return { start: Math.floor((partition * rows) / partitions), end: Math.floor(((partition + 1) * rows) / partitions) };
}

/**
 * Where the model's features sit in the table's rows: the whole row, or — for an entity-id scheme
 * whose id column is the first or the last — the other columns.
 */
export function featureLayoutOf(model: XgboostModel, table: NumericTable, scheme: KeyScheme): FeatureLayout {
  if (table.width === model.featureCount) return { stride: table.width, offset: 0 };
  if (scheme.scheme === 'entity-id' && table.width === model.featureCount + 1) {
    const idColumn = entityColumnIndex(scheme, table.columns);
    if (idColumn === 0) return { stride: table.width, offset: 1 };
    if (idColumn === table.width - 1) return { stride: table.width, offset: 0 };
  }
  throw new MlTasksError(
    'FEATURE_COUNT_MISMATCH',
    `${model.source} expects ${model.featureCount} features; the table has ${table.width} columns` +
      (scheme.scheme === 'entity-id' ? ' (with an entity-id column, put it first or last)' : ''),
  );
}

/** Scores one partition of a table and keys every row. */
export async function batchPredict(
  model: XgboostModel,
  table: NumericTable,
  options: BatchPredictOptions = {},
): Promise<BatchPredictions> {
  const scheme = options.keyScheme ?? PYTHON_TEXT_SCHEME;
  const partition = options.partition ?? 0;
  const partitions = options.partitions ?? 1;
  const chunkRows = options.chunkRows ?? 65_536;
  const { start, end } = partitionRange(table.rows, partition, partitions);
  const layout = featureLayoutOf(model, table, scheme);
  const featureColumns = { offset: layout.offset, length: model.featureCount };
  const rows = end - start;
  const keys = new Array<string>(rows);
  const labels = new Array<string>(rows);
  const names = options.classNames ?? [];
  const classNames = Array.from(
    { length: Math.max(model.groupCount, 2, names.length) },
    (_, c) => names[c] ?? String(c),
  );
  const classes = new Int32Array(Math.min(chunkRows, Math.max(rows, 1)));
  const values = new Float64Array(
    model.isClassifier ? 0 : Math.min(chunkRows, Math.max(rows, 1)) * model.outputsPerRow,
  );
  const counts = new Map<string, number>();
  for (let at = start; at < end; at += chunkRows) {
    options.signal?.throwIfAborted();
    const stop = Math.min(end, at + chunkRows);
    const count = stop - at;
    const chunk = table.data.subarray(at * table.width, stop * table.width);
    if (model.isClassifier) {
      model.predictClassesInto(chunk, count, classes, layout);
      for (let row = 0; row < count; row++) labels[at - start + row] = classNames[classes[row] as number] as string;
    } else {
      model.predictInto(chunk, count, values, layout);
      for (let row = 0; row < count; row++) {
        labels[at - start + row] = pythonFloatString(values[row * model.outputsPerRow] as number);
      }
    }
    const chunkKeys = keysForRows(scheme, table, at, stop, featureColumns);
    for (let row = 0; row < count; row++) keys[at - start + row] = chunkKeys[row] as string;
    options.onProgress?.((stop - start) / rows);
    if (stop < end) await nextTurn();
  }
  for (const label of labels) counts.set(label, (counts.get(label) ?? 0) + 1);
  return {
    partition,
    partitions,
    startRow: start,
    endRow: end,
    rows,
    keys,
    labels,
    counts: Object.fromEntries([...counts.entries()].sort()),
  };
}
