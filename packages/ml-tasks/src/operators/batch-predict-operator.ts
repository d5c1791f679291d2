import type { TaskContext } from '@batuta/scheduler';
import { defineOperator } from '@batuta/scheduler';
import { z } from 'zod';
import { MlTasksError } from '../errors.js';
import { writeBytes } from '../io/blob.js';
import type { NumericTable } from '../io/csv.js';
import { keySchemeSchema, PYTHON_TEXT_SCHEME } from '../keys/key-schemes.js';
import { batchPredict } from '../predict/batch-predict.js';
import {
  modelOf,
  modelPayloadSchema,
  type PredictionsPayload,
  type TablePayload,
  tableOf,
  tablePayloadSchema,
} from './payloads.js';
import { inputsOfKind, resolveUrl, singleInput } from './task-inputs.js';

export const batchPredictArgs = z
  .object({
    model: z.string().optional().describe('The upstream task that loaded the model (default: the only ml.model input)'),
    data: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .describe('Upstream task(s) whose tables to score, concatenated (default: every ml.table input)'),
    keyScheme: keySchemeSchema.optional().describe("How rows are keyed (default { scheme: 'python-text' })"),
    classNames: z
      .array(z.string())
      .optional()
      .describe('Label of each class index, e.g. [setosa, versicolor, virginica]'),
    partitions: z.number().int().min(1).optional().describe('How many mapped instances share the table (default 1)'),
    partition: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('This instance’s partition (default: item.partition or mapIndex)'),
    chunkRows: z.number().int().min(1).optional(),
    output: z
      .string()
      .optional()
      .describe('Write the predictions to this file:/s3:// URL ({run}, {partition} are replaced) and pass a reference'),
  })
  .strict();
type BatchPredictArgs = z.infer<typeof batchPredictArgs>;

/** The partition a (possibly mapped) instance scores: `with`, then the mapped item, then the map index. */
export function partitionOf(
  context: TaskContext,
  args: Pick<BatchPredictArgs, 'partition' | 'partitions'>,
): {
  partition: number;
  partitions: number;
} {
  const item = (typeof context.item === 'object' && context.item !== null ? context.item : {}) as Record<
    string,
    unknown
  >;
  const fromItem = item.partition;
  const nested = typeof fromItem === 'object' && fromItem !== null ? (fromItem as Record<string, unknown>) : undefined;
  const itemPartition = typeof fromItem === 'number' ? fromItem : nested?.partition;
  const itemPartitions = typeof item.partitions === 'number' ? item.partitions : nested?.partitions;
  const partition =
    args.partition ?? (typeof itemPartition === 'number' ? itemPartition : Math.max(context.mapIndex, 0));
  const partitions = args.partitions ?? (typeof itemPartitions === 'number' ? itemPartitions : 1);
  if (partition >= partitions) {
    throw new MlTasksError(
      'INVALID_ARGUMENT',
      `partition ${partition} of ${partitions}: map over exactly 'partitions' instances (with: { partitions: N } and N mapped items)`,
    );
  }
  return { partition, partitions };
}

function concatenate(tables: NumericTable[]): NumericTable {
  const nonEmpty = tables.filter((table) => table.rows > 0);
  const first = nonEmpty[0];
  if (!first) return { data: new Float64Array(0), rows: 0, width: tables[0]?.width ?? 0 };
  if (nonEmpty.length === 1) return first;
  const width = first.width;
  const mismatch = nonEmpty.find((table) => table.width !== width);
  if (mismatch) {
    throw new MlTasksError('FEATURE_COUNT_MISMATCH', `tables to score have ${width} and ${mismatch.width} columns`);
  }
  const rows = nonEmpty.reduce((sum, table) => sum + table.rows, 0);
  const data = new Float64Array(rows * width);
  let at = 0;
  for (const table of nonEmpty) {
    data.set(table.data.subarray(0, table.rows * width), at);
    at += table.rows * width;
  }
  return { data, rows, width, columns: first.columns };
}

/** `ml.batchPredict`: scores one partition of the input tables in chunks and keys every row. */
export const batchPredictOperator = defineOperator<BatchPredictArgs>({
  name: 'ml.batchPredict',
  description: 'Score the input table(s) with the model in chunks, one partition per mapped instance; key every row',
  args: batchPredictArgs,
  resources: { cpu: 1, memoryMb: 1024 },
  async run(context, args): Promise<PredictionsPayload> {
    const modelPayload = singleInput(context, 'ml.model', modelPayloadSchema, args.model);
    const tablePayloads: TablePayload[] = inputsOfKind(context, 'ml.table', tablePayloadSchema, args.data);
    if (tablePayloads.length === 0) {
      throw new MlTasksError('MISSING_INPUT', `task '${context.taskId}' has no ml.table input to score`);
    }
    const [model, tables] = await Promise.all([modelOf(modelPayload), Promise.all(tablePayloads.map(tableOf))]);
    const table = concatenate(tables);
    const { partition, partitions } = partitionOf(context, args);
    const keyScheme = args.keyScheme ?? PYTHON_TEXT_SCHEME;
    const predictions = await batchPredict(model, table, {
      keyScheme,
      partition,
      partitions,
      ...(args.classNames ? { classNames: args.classNames } : {}),
      ...(args.chunkRows ? { chunkRows: args.chunkRows } : {}),
      onProgress: context.progress,
      signal: context.signal,
    });
    context.log(
      `partition ${partition + 1}/${partitions}: scored rows ${predictions.startRow}..${predictions.endRow - 1} (${predictions.rows}) → ${JSON.stringify(predictions.counts)}`,
    );
    const payload: PredictionsPayload = {
      kind: 'ml.predictions',
      model: modelPayload.url,
      partition,
      partitions,
      rows: predictions.rows,
      keyScheme,
      ...(args.classNames ? { classNames: args.classNames } : {}),
      featureCount: model.featureCount,
      counts: predictions.counts,
    };
    if (!args.output) {
      if (predictions.rows > 200_000) {
        context.log(
          `passing ${predictions.rows} predictions inline through the state store; for batches this large set with.output (a shared path or s3:// URL)`,
        );
      }
      return { ...payload, keys: predictions.keys, labels: predictions.labels };
    }
    const url = resolveUrl(
      context,
      args.output
        .replaceAll('{run}', context.runId.replace(/[^A-Za-z0-9_.-]/g, '_'))
        .replaceAll('{partition}', String(partition)),
    );
    await writeBytes(url, JSON.stringify({ keys: predictions.keys, labels: predictions.labels }));
    return { ...payload, ref: url };
  },
});
