// Redis connections for the executor and the workers. BullMQ needs `maxRetriesPerRequest: null` (a
// command waits through a reconnect instead of failing), and a Redis restart should be noticed fast.
import { Redis, type RedisOptions } from 'ioredis';

/** Reconnect at once, then back off to at most a second between tries; never give up. */
function retryStrategy(times: number): number {
  return Math.min(times * 50, 1_000);
}

/** ioredis options we pass through (reply mapping stays ioredis' default, which BullMQ expects). */
export type ConnectionOptions = Omit<RedisOptions, 'replyMapping'>;

/** A new connection to `url` with the options BullMQ requires; `options` may override the rest. */
export function connectRedis(url: string, options: ConnectionOptions = {}): Redis {
  return new Redis(url, { retryStrategy, ...options, maxRetriesPerRequest: null });
}
