// What the ML operators pass each other through the state store, as JSON. Tables travel inline
// (Float64 bytes in base64: exact, including -0.0 and NaN, which JSON numbers cannot carry) or by
// reference (the CSV's URL, re-read by the consumer); models inline (their JSON text) or by URL
// pinned by SHA-256; predictions inline or as a JSON file written next to the run.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { MlTasksError } from '../errors.js';
import { readBytes } from '../io/blob.js';
import type { NumericTable } from '../io/csv.js';
import { loadCsv } from '../io/load.js';
import { keySchemeSchema } from '../keys/key-schemes.js';
import { XgboostModel } from '../xgboost/xgboost-model.js';

/** S3 settings a DAG may give (credentials come from the environment, never from DAG files). */
export const s3ArgsSchema = z
  .object({
    endpoint: z.string().url().optional(),
    region: z.string().min(1).optional(),
    forcePathStyle: z.boolean().optional(),
  })
  .strict();

const tableRefSchema = z.object({
  url: z.string(),
  header: z.boolean(),
  columns: z.array(z.union([z.number().int().min(0), z.string()])).optional(),
  delimiter: z.string().optional(),
  s3: s3ArgsSchema.optional(),
});

/** A table between tasks: inline bytes, or a reference to re-read. */
export const tablePayloadSchema = z.object({
  kind: z.literal('ml.table'),
  url: z.string(),
  rows: z.number().int().min(0),
  width: z.number().int().min(0),
  columns: z.array(z.string()).optional(),
  /** Float64 little-endian values, row-major, base64. */
  data: z.string().optional(),
  ref: tableRefSchema.optional(),
});
export type TablePayload = z.infer<typeof tablePayloadSchema>;

/** A model between tasks: its JSON text inline, or its URL and the SHA-256 it had when loaded. */
export const modelPayloadSchema = z.object({
  kind: z.literal('ml.model'),
  url: z.string(),
  sha256: z.string(),
  objective: z.string(),
  featureCount: z.number().int(),
  treeCount: z.number().int(),
  outputsPerRow: z.number().int(),
  json: z.string().optional(),
  s3: s3ArgsSchema.optional(),
});
export type ModelPayload = z.infer<typeof modelPayloadSchema>;

/** One partition's predictions between tasks: inline lists, or the URL of a JSON file holding them. */
export const predictionsPayloadSchema = z.object({
  kind: z.literal('ml.predictions'),
  model: z.string(),
  partition: z.number().int().min(0),
  partitions: z.number().int().min(1),
  rows: z.number().int().min(0),
  keyScheme: keySchemeSchema,
  classNames: z.array(z.string()).optional(),
  featureCount: z.number().int(),
  counts: z.record(z.string(), z.number()),
  keys: z.array(z.string()).optional(),
  labels: z.array(z.string()).optional(),
  ref: z.string().optional(),
});
export type PredictionsPayload = z.infer<typeof predictionsPayloadSchema>;

/** Encodes a Float64Array as base64 of its little-endian bytes. */
export function encodeFloat64(values: Float64Array): string {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
}

/** Decodes `encodeFloat64`. */
export function decodeFloat64(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  const values = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(values.buffer).set(bytes);
  return values;
}

/** A table as a payload: inline when small, else a reference to its source. */
export function tablePayload(table: NumericTable & { url: string }, ref?: TablePayload['ref']): TablePayload {
  return {
    kind: 'ml.table',
    url: table.url,
    rows: table.rows,
    width: table.width,
    ...(table.columns ? { columns: table.columns } : {}),
    ...(ref ? { ref } : { data: encodeFloat64(table.data) }),
  };
}

/** The table a payload carries or points at. */
export async function tableOf(payload: TablePayload): Promise<NumericTable> {
  if (payload.data !== undefined) {
    const data = decodeFloat64(payload.data);
    if (data.length !== payload.rows * payload.width) {
      throw new MlTasksError(
        'MISSING_INPUT',
        `table ${payload.url}: ${data.length} values for ${payload.rows}×${payload.width}`,
      );
    }
    return { data, rows: payload.rows, width: payload.width, columns: payload.columns };
  }
  if (!payload.ref) throw new MlTasksError('MISSING_INPUT', `table ${payload.url} has neither data nor a reference`);
  const { url, s3, ...csv } = payload.ref;
  const table = await loadCsv(url, { ...csv, ...(s3 ? { s3 } : {}) });
  if (table.rows !== payload.rows) {
    throw new MlTasksError(
      'MISSING_INPUT',
      `${url} changed since it was loaded: ${table.rows} rows now, ${payload.rows} then; re-run the load task`,
      { retryable: false },
    );
  }
  return table;
}

/** The SHA-256 of a model's bytes, to pin a model passed by reference. */
export function sha256Of(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The model a payload carries or points at (a reference must still have the same bytes). */
export async function modelOf(payload: ModelPayload): Promise<XgboostModel> {
  let text = payload.json;
  if (text === undefined) {
    const bytes = await readBytes(payload.url, payload.s3 ? { s3: payload.s3 } : {});
    if (sha256Of(bytes) !== payload.sha256) {
      throw new MlTasksError(
        'MISSING_INPUT',
        `${payload.url} changed since it was loaded (SHA-256 differs); re-run the load task so every task scores with one model`,
        { retryable: false },
      );
    }
    text = new TextDecoder().decode(bytes);
  }
  return XgboostModel.fromJsonText(text, { source: payload.url });
}
