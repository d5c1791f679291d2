import { defineOperator } from '@batuta/scheduler';
import { z } from 'zod';
import { drainMisses } from '../lookup/misses.js';
import { encodeFloat64, type TablePayload } from './payloads.js';
import { openRedis, redisUrlFor } from './task-inputs.js';

export const drainMissesArgs = z
  .object({
    model: z.string().min(1).describe('The model name whose recorded misses to take'),
    namespace: z.string().optional(),
    redisUrl: z.string().optional().describe('Default: BATUTA_REDIS_URL, else redis://127.0.0.1:6379'),
    max: z.number().int().min(1).optional().describe('At most this many recorded misses (default 100,000)'),
    featureCount: z.number().int().min(1).optional().describe('Width of the table when no miss was recorded'),
  })
  .strict();

/** `ml.drainMisses`: takes the lookups that missed off the queue, as a table for ml.batchPredict to score. */
export const drainMissesOperator = defineOperator<z.infer<typeof drainMissesArgs>>({
  name: 'ml.drainMisses',
  description: 'Take the recorded lookup misses of a model off its queue, as a table to score in this run',
  args: drainMissesArgs,
  async run(context, args): Promise<TablePayload> {
    const redis = await openRedis(redisUrlFor(args.redisUrl));
    try {
      const drained = await drainMisses(redis, {
        model: args.model,
        ...(args.namespace ? { namespace: args.namespace } : {}),
        ...(args.max ? { max: args.max } : {}),
        ...(args.featureCount ? { featureCount: args.featureCount } : {}),
      });
      context.log(
        `drained ${drained.entries} recorded misses of ${args.model}: ${drained.rows} distinct rows to score`,
      );
      return {
        kind: 'ml.table',
        url: `redis-misses:${args.model}`,
        rows: drained.rows,
        width: drained.width,
        data: encodeFloat64(drained.data),
      };
    } finally {
      redis.disconnect();
    }
  },
});
