// Helpers shared by the ML operators: reading typed upstream outputs, resolving paths against the
// DAG file, naming a run's version, and opening Redis.
import { dirname, isAbsolute, resolve } from 'node:path';
import { redactCredentials, redisTlsFromEnv, redisTlsOptions, type TaskContext } from '@batuta/scheduler';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import { MlTasksError } from '../errors.js';

/** Where the operators find Redis unless `with.redisUrl` says: BATUTA_REDIS_URL, else the local default. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The Redis URL for a task: `with.redisUrl`, then BATUTA_REDIS_URL, then redis://127.0.0.1:6379. */
export function redisUrlFor(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? env.BATUTA_REDIS_URL ?? DEFAULT_REDIS_URL;
}

/**
 * Every upstream output of one kind (`ml.table`, `ml.model`, `ml.predictions`), in upstream order;
 * a mapped upstream's list contributes each element. `from` restricts to those task ids.
 */
export function inputsOfKind<T>(
  context: TaskContext,
  kind: string,
  schema: z.ZodType<T>,
  from?: string | readonly string[],
): T[] {
  const wanted = from === undefined ? undefined : new Set(typeof from === 'string' ? [from] : from);
  const found: T[] = [];
  for (const [taskId, output] of Object.entries(context.inputs)) {
    if (wanted && !wanted.has(taskId)) continue;
    const values = Array.isArray(output) ? output : [output];
    for (const value of values) {
      if (typeof value !== 'object' || value === null || (value as { kind?: unknown }).kind !== kind) continue;
      const parsed = schema.safeParse(value);
      if (!parsed.success) {
        throw new MlTasksError(
          'MISSING_INPUT',
          `the ${kind} output of task '${taskId}' is malformed: ${parsed.error.message}`,
        );
      }
      found.push(parsed.data);
    }
  }
  if (wanted) {
    for (const taskId of wanted) {
      if (!(taskId in context.inputs)) {
        throw new MlTasksError('MISSING_INPUT', `task '${taskId}' is not an upstream of '${context.taskId}'`);
      }
    }
  }
  return found;
}

/** The single upstream output of a kind; a clear error when there is none or several. */
export function singleInput<T>(context: TaskContext, kind: string, schema: z.ZodType<T>, from?: string): T {
  const found = inputsOfKind(context, kind, schema, from);
  if (found.length !== 1) {
    throw new MlTasksError(
      'MISSING_INPUT',
      `task '${context.taskId}' needs exactly one ${kind} input${from ? ` from '${from}'` : ''}; found ${found.length}` +
        (found.length > 1 ? ` (name one with 'with.${kind === 'ml.model' ? 'model' : 'data'}')` : ''),
    );
  }
  return found[0] as T;
}

/** A relative path (plain or `file:`) is resolved against the DAG file's folder, as Airflow resolves against the DAG folder. */
export function resolveUrl(context: TaskContext, url: string): string {
  if (url.startsWith('s3://') || url.startsWith('file://') || /^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  const path = url.startsWith('file:') ? url.slice('file:'.length) : url;
  if (isAbsolute(path)) return url;
  const base = context.dagFile ? dirname(context.dagFile) : process.cwd();
  return resolve(base, path);
}

/** A version name for this run (letters, digits, '_', '.', '-'): the run id with other characters replaced. */
export function versionOfRun(context: TaskContext): string {
  return context.runId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128) || 'run';
}

/** Opens Redis, failing fast (retryable) with the URL and how to point at another server. */
export async function openRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    // In-process operators share the worker's environment, TLS settings included.
    ...redisTlsOptions(redisTlsFromEnv(process.env)),
    lazyConnect: true,
    connectTimeout: 5000,
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => (times > 3 ? null : 200 * times),
  });
  redis.on('error', () => {
    // Reported through the failing command; without a listener ioredis logs to stderr.
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new MlTasksError(
      'REDIS_UNAVAILABLE',
      `cannot reach Redis at ${redactCredentials(url)}: ${redactCredentials((error as Error).message)}. Start redis-server, or set BATUTA_REDIS_URL (or with.redisUrl)`,
      { cause: error, retryable: true },
    );
  }
  return redis;
}
