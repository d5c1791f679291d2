// The ioredis options every connection the CLI opens shares: today the TLS material of the configuration.
import { redisTlsOptions } from '@batuta/scheduler';
import type { RedisOptions } from 'ioredis';
import type { CliConfig } from './config.js';

/** Options for `new Redis(config.redisUrl, …)`, the store and BullMQ: TLS when the configuration has it. */
export function redisOptionsOf(config: CliConfig): Pick<RedisOptions, 'tls'> {
  return redisTlsOptions(config.redisTls);
}
