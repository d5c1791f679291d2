import { PredictionClient, rollback } from '@batuta/ml-tasks';
import { Redis } from 'ioredis';
import { UsageError } from '../cli-error.js';
import type { CliConfig } from '../config.js';
import { redisOptionsOf } from '../redis-options.js';

async function withRedis<T>(config: CliConfig, body: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(config.redisUrl, {
    ...redisOptionsOf(config),
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
  });
  redis.on('error', () => {});
  try {
    return await body(redis);
  } finally {
    redis.disconnect();
  }
}

/** `batuta predictions get MODEL 5.0 2.9 1.1 0.4` (or `--id ID`): a consumer's lookup. */
export async function predictionsGet(
  config: CliConfig,
  model: string,
  features: string[],
  id: string | undefined,
): Promise<number> {
  if (!id && features.length === 0) throw new UsageError('give the features (e.g. 5.0 2.9 1.1 0.4) or --id ID');
  const values = features.map((text) => {
    const value = Number(text);
    if (text.trim() === '' || Number.isNaN(value)) throw new UsageError(`'${text}' is not a number`);
    return value;
  });
  return withRedis(config, async (redis) => {
    const client = new PredictionClient(redis, { model });
    const result = await client.lookup(id ? { id } : values);
    if ('value' in result) {
      console.log(result.value);
      console.error(
        `(${result.status}; key ${result.key ?? '-'}${'version' in result && result.version ? `; version ${result.version}` : ''})`,
      );
      return 0;
    }
    console.error(`missing (key ${result.key ?? '-'})`);
    return 1;
  });
}

/** `batuta predictions rollback MODEL`. */
export async function predictionsRollback(config: CliConfig, model: string): Promise<number> {
  return withRedis(config, async (redis) => {
    const { from, to } = await rollback(redis, model, { namespace: config.namespace });
    console.log(`${model}: current ${from} → ${to}`);
    return 0;
  });
}
