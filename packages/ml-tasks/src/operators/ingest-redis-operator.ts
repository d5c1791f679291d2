import { defineOperator, redactCredentials } from '@batuta/scheduler';
import { z } from 'zod';
import { MlTasksError } from '../errors.js';
import { type IngestResult, PredictionWriter } from '../ingest/ingest-predictions.js';
import { readBytes, writeBytes } from '../io/blob.js';
import { type PredictionsPayload, predictionsPayloadSchema } from './payloads.js';
import { inputsOfKind, openRedis, redisUrlFor, resolveUrl, versionOfRun } from './task-inputs.js';

export const ingestRedisArgs = z
  .object({
    model: z.string().min(1).describe('The name predictions are stored under (letters, digits, _ . -)'),
    version: z
      .string()
      .optional()
      .describe('Prediction-set version (default: derived from the run id, so a retry is idempotent)'),
    layout: z
      .enum(['plain', 'versioned'])
      .optional()
      .describe('versioned (default) or plain bare keys like the original'),
    namespace: z.string().optional(),
    redisUrl: z.string().optional().describe('Default: BATUTA_REDIS_URL, else redis://127.0.0.1:6379'),
    batchSize: z.number().int().min(1).optional(),
    keep: z.number().int().min(0).optional().describe('Complete versions kept (default 3)'),
    prefix: z.string().optional().describe('Plain layout only: prepended to every key'),
    minKeepShare: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe("Refuse a batch with fewer rows than this share of the current version's (default 0.5; 0 = off)"),
    force: z
      .boolean()
      .optional()
      .describe('Commit even a batch the safety gate refuses (0 rows, or below minKeepShare)'),
    activate: z
      .boolean()
      .optional()
      .describe(
        "Versioned: switch the model's current set to this version (default true); false commits it complete but not served, for a rollout to route to and promote",
      ),
    predictions: z
      .string()
      .optional()
      .describe("'file:PATH' (or s3://…): write a key,label CSV there instead of Redis"),
    from: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .describe('Upstream task(s) with the predictions'),
  })
  .strict();
type IngestRedisArgs = z.infer<typeof ingestRedisArgs>;

async function rowsOf(payload: PredictionsPayload): Promise<{ keys: string[]; labels: string[] }> {
  if (payload.keys && payload.labels) return { keys: payload.keys, labels: payload.labels };
  if (!payload.ref) throw new MlTasksError('MISSING_INPUT', 'a predictions output has neither rows nor a reference');
  const parsed = JSON.parse(new TextDecoder().decode(await readBytes(payload.ref))) as {
    keys: string[];
    labels: string[];
  };
  if (parsed.keys.length !== payload.rows) {
    throw new MlTasksError(
      'MISSING_INPUT',
      `${payload.ref} holds ${parsed.keys.length} predictions, expected ${payload.rows}`,
    );
  }
  return parsed;
}

/** File mode: the predictions as a `key,label` CSV. */
export interface PredictionsFileResult {
  written: string;
  rows: number;
}

/** `ml.ingestRedis`: writes every partition's predictions to Redis (or a file) and commits the version. */
export const ingestRedisOperator = defineOperator<IngestRedisArgs>({
  name: 'ml.ingestRedis',
  description: 'Write the predictions to Redis (versioned with an atomic switch, or plain) or to a file',
  args: ingestRedisArgs,
  async run(context, args): Promise<IngestResult | PredictionsFileResult> {
    const parts = inputsOfKind(context, 'ml.predictions', predictionsPayloadSchema, args.from).sort(
      (a, b) => a.partition - b.partition,
    );
    if (parts.length === 0)
      throw new MlTasksError('MISSING_INPUT', `task '${context.taskId}' has no ml.predictions input`);
    const expected = parts[0]?.partitions ?? 1;
    if (parts.length !== expected || parts.some((part, index) => part.partition !== index)) {
      throw new MlTasksError(
        'MISSING_INPUT',
        `expected the ${expected} partitions 0..${expected - 1}, got [${parts.map((part) => part.partition).join(', ')}]: a partition failed or is missing`,
      );
    }
    const rows = parts.reduce((sum, part) => sum + part.rows, 0);
    const first = parts[0] as PredictionsPayload;

    if (args.predictions) {
      const url = resolveUrl(context, args.predictions);
      const lines = ['key,label'];
      for (const part of parts) {
        const { keys, labels } = await rowsOf(part);
        for (let row = 0; row < keys.length; row++) lines.push(`${keys[row]},${labels[row]}`);
      }
      await writeBytes(url, `${lines.join('\n')}\n`);
      context.log(`wrote ${rows} predictions to ${url}`);
      return { written: url, rows };
    }

    const redisUrl = redisUrlFor(args.redisUrl);
    const redis = await openRedis(redisUrl);
    try {
      const writer = await PredictionWriter.open(redis, {
        model: args.model,
        version: args.version ?? versionOfRun(context),
        expectedRows: rows,
        keyScheme: first.keyScheme,
        featureCount: first.featureCount,
        ...(first.classNames ? { classNames: first.classNames } : {}),
        ...(args.layout ? { layout: args.layout } : {}),
        ...(args.namespace ? { namespace: args.namespace } : {}),
        ...(args.batchSize ? { batchSize: args.batchSize } : {}),
        ...(args.keep === undefined ? {} : { keep: args.keep }),
        ...(args.prefix === undefined ? {} : { prefix: args.prefix }),
        ...(args.minKeepShare === undefined ? {} : { minKeepShare: args.minKeepShare }),
        ...(args.force === undefined ? {} : { force: args.force }),
        ...(args.activate === undefined ? {} : { activate: args.activate }),
      });
      let done = 0;
      for (const part of parts) {
        context.signal.throwIfAborted();
        const { keys, labels } = await rowsOf(part);
        await writer.write(keys, labels);
        done += part.rows;
        context.progress(rows === 0 ? 1 : done / rows);
      }
      const result = await writer.commit();
      context.log(
        `${result.skipped ? 'version already complete; re-pointed' : 'ingested'} ${rows} predictions of ${args.model}` +
          (result.version
            ? result.activated === false
              ? ` as version ${result.version}, not activated (current stays ${result.previous ?? 'none'})`
              : ` as version ${result.version} (previous: ${result.previous ?? 'none'})`
            : ' (plain keys)') +
          ` into ${redactCredentials(redisUrl)}` +
          (result.gate?.verdict === 'forced' ? `; FORCED past the safety gate: ${result.gate.reason}` : ''),
      );
      return result;
    } finally {
      redis.disconnect();
    }
  },
});
