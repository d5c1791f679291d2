// CLI configuration: a config file (batuta.config.json or .yaml, or --config FILE), then the
// environment (BATUTA_REDIS_URL, BATUTA_NAMESPACE, BATUTA_DAGS, BATUTA_POOLS, BATUTA_RETENTION_RUNS,
// BATUTA_PAUSED_ON_CREATION, BATUTA_METRICS_PORT, BATUTA_LOG_STORE, BATUTA_LOG_FOLDER, BATUTA_REDIS_TLS_*), then flags. zod-checked.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { redisTlsFromEnv } from '@batuta/scheduler';
import { durationProblem } from '@batuta/scheduler/internals';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UsageError } from './cli-error.js';

/** The settings every daemon and command shares. */
export const cliConfigSchema = z
  .object({
    redisUrl: z.string().url().default('redis://127.0.0.1:6379').describe('Redis, the system of record'),
    namespace: z
      .string()
      .regex(/^[A-Za-z0-9_.{}-]+$/)
      .default('default')
      .describe('Keys live under batuta:<namespace>:'),
    dags: z.string().default('dags').describe('The folder of DAG files'),
    pools: z.string().optional().describe('A pools file (YAML); default: one pool "default" sized to this machine'),
    executor: z.enum(['bullmq', 'local']).default('bullmq').describe('Where the scheduler sends tasks'),
    pausedOnCreation: z
      .boolean()
      .default(false)
      .describe(
        'Store a DAG paused the first time any scheduler of the namespace sees it (a DAG may override it); see docs/operations.md',
      ),
    retention: z
      .object({
        runs: z
          .string()
          .superRefine((text, context) => {
            const problem = durationProblem(text);
            if (problem) context.addIssue({ code: 'custom', message: problem });
          })
          .optional()
          .describe('Ended runs older than this (e.g. 30d) are removed by the scheduler; kept for ever when unset'),
      })
      .strict()
      .default({})
      .describe('How long the store keeps history'),
    logs: z
      .object({
        store: z
          .enum(['redis', 'file', 'none'])
          .default('redis')
          .describe(
            "Where task logs go: Redis (default; readable from every machine), files under `folder`, or 'none'",
          ),
        folder: z.string().default('logs').describe('The folder of the file log store (one file per attempt)'),
        maxLinesPerAttempt: z.number().int().positive().default(100_000).describe('Lines kept per attempt'),
        maxLinesPerRun: z.number().int().positive().default(1_000_000).describe('Lines kept per run, all attempts'),
      })
      .strict()
      .default({ store: 'redis', folder: 'logs', maxLinesPerAttempt: 100_000, maxLinesPerRun: 1_000_000 })
      .describe('Task logs (BATUTA_LOG_STORE, BATUTA_LOG_FOLDER)'),
    metricsPort: z
      .number()
      .int()
      .min(0)
      .max(65_535)
      .optional()
      .describe(
        'Serve Prometheus metrics at http://0.0.0.0:PORT/metrics from `batuta scheduler` and `batuta worker` (BATUTA_METRICS_PORT); none when unset',
      ),
    maxConfBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024)
      .describe('The largest conf or event payload accepted from the command line, in bytes'),
    maxConfDepth: z
      .number()
      .int()
      .positive()
      .default(64)
      .describe('The deepest nesting of objects and arrays accepted in a conf or event payload'),
    redisTls: z
      .object({
        ca: z.string().optional().describe('CA certificate file (PEM) of the Redis server (BATUTA_REDIS_TLS_CA)'),
        cert: z.string().optional().describe('Client certificate file (PEM) (BATUTA_REDIS_TLS_CERT)'),
        key: z.string().optional().describe("The client certificate's key file (PEM) (BATUTA_REDIS_TLS_KEY)"),
        serverName: z
          .string()
          .optional()
          .describe("The name on the server's certificate, when not the URL's host (BATUTA_REDIS_TLS_SERVERNAME)"),
      })
      .strict()
      .optional()
      .describe('TLS for Redis (a rediss:// URL turns TLS on with the system CAs alone)'),
  })
  .strict();

export type CliConfig = z.infer<typeof cliConfigSchema>;

const FILES = ['batuta.config.json', 'batuta.config.yaml', 'batuta.config.yml'];

/** Resolves the configuration: file < environment < flags. */
export function loadConfig(flags: {
  config?: string | undefined;
  redis?: string | undefined;
  namespace?: string | undefined;
  dags?: string | undefined;
  pools?: string | undefined;
  executor?: string | undefined;
  'paused-on-creation'?: string | undefined;
}): CliConfig {
  let fromFile: Record<string, unknown> = {};
  const file = flags.config ?? FILES.find((f) => existsSync(f));
  if (file) {
    if (!existsSync(file)) throw new UsageError(`config file ${file} does not exist`);
    const text = readFileSync(file, 'utf8');
    const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (typeof parsed !== 'object' || parsed === null) throw new UsageError(`${file}: expected a map of settings`);
    fromFile = parsed as Record<string, unknown>;
  }
  const env = process.env;
  const tlsFromEnv = redisTlsFromEnv(env);
  const merged: Record<string, unknown> = {
    ...fromFile,
    ...(env.BATUTA_REDIS_URL ? { redisUrl: env.BATUTA_REDIS_URL } : {}),
    ...(env.BATUTA_NAMESPACE ? { namespace: env.BATUTA_NAMESPACE } : {}),
    ...(env.BATUTA_DAGS ? { dags: env.BATUTA_DAGS } : {}),
    ...(env.BATUTA_POOLS ? { pools: env.BATUTA_POOLS } : {}),
    ...(env.BATUTA_METRICS_PORT ? { metricsPort: Number(env.BATUTA_METRICS_PORT) } : {}),
    ...(env.BATUTA_PAUSED_ON_CREATION
      ? { pausedOnCreation: booleanSetting(env.BATUTA_PAUSED_ON_CREATION, 'BATUTA_PAUSED_ON_CREATION') }
      : {}),
    ...(env.BATUTA_RETENTION_RUNS
      ? {
          retention: {
            ...(fromFile.retention as Record<string, unknown> | undefined),
            runs: env.BATUTA_RETENTION_RUNS,
          },
        }
      : {}),
    ...(env.BATUTA_LOG_STORE || env.BATUTA_LOG_FOLDER
      ? {
          logs: {
            ...(fromFile.logs as Record<string, unknown> | undefined),
            ...(env.BATUTA_LOG_STORE ? { store: env.BATUTA_LOG_STORE } : {}),
            ...(env.BATUTA_LOG_FOLDER ? { folder: env.BATUTA_LOG_FOLDER } : {}),
          },
        }
      : {}),
    ...(Object.keys(tlsFromEnv).length > 0
      ? { redisTls: { ...(fromFile.redisTls as Record<string, unknown> | undefined), ...tlsFromEnv } }
      : {}),
    ...(flags.redis ? { redisUrl: flags.redis } : {}),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
    ...(flags.dags ? { dags: flags.dags } : {}),
    ...(flags.pools ? { pools: flags.pools } : {}),
    ...(flags.executor ? { executor: flags.executor } : {}),
    ...(flags['paused-on-creation']
      ? { pausedOnCreation: booleanSetting(flags['paused-on-creation'], '--paused-on-creation') }
      : {}),
  };
  const result = cliConfigSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new UsageError(`bad configuration${file ? ` (${resolve(file)}, environment, flags)` : ''}: ${problems}`);
  }
  return result.data;
}

/** `true`/`false` (or `1`/`0`, `yes`/`no`) from an environment variable or a flag. */
function booleanSetting(text: string, where: string): boolean {
  const value = text.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new UsageError(`${where} must be true or false, got '${text}'`);
}
