// A short-lived Redis client for one command: one failed connect is the answer (exit 4), not a retry loop.
import { redactCredentials } from '@batuta/scheduler';
import { Redis } from 'ioredis';
import { UnreachableError } from './cli-error.js';
import type { CliConfig } from './config.js';
import { redisOptionsOf } from './redis-options.js';

/** Connects to the configured Redis, runs `body` with the client, and disconnects. */
export async function withRedis<T>(config: CliConfig, body: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = await connectRedis(config);
  try {
    return await body(redis);
  } finally {
    redis.disconnect();
  }
}

/** A connected client of the configured Redis (the caller disconnects it), or UnreachableError. */
export async function connectRedis(config: CliConfig, options: { retry?: boolean } = {}): Promise<Redis> {
  const redis = new Redis(config.redisUrl, {
    ...redisOptionsOf(config),
    // A command of a daemon fails after one reconnect attempt rather than waiting out an outage: a request
    // gets an error answer, not a hang (the client keeps reconnecting in the background).
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    lazyConnect: true,
    // A command exits 4 at once; a daemon (`retry`) reconnects through an outage instead.
    ...(options.retry ? {} : { retryStrategy: () => null }),
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new UnreachableError(
      `cannot reach Redis at ${redactCredentials(config.redisUrl)} (${redactCredentials((error as Error).message)}); start redis-server or set BATUTA_REDIS_URL / --redis`,
    );
  }
  return redis;
}
