import { placeDag, type WorkerPool } from '@batuta/orchestrator';
import {
  DagFolder,
  type DagIssue,
  type DagSpec,
  FileLogStore,
  type LogStore,
  MemoryLogStore,
  type OperatorRegistry,
  parseDuration,
  RedisLogStore,
  RedisStateStore,
  redactCredentials,
} from '@batuta/scheduler';
import { NotFoundError, UsageError } from './cli-error.js';
import type { CliConfig } from './config.js';
import { redisOptionsOf } from './redis-options.js';

/** Opens the Redis state store of the configured namespace (the caller closes it). */
export async function openStore(config: CliConfig): Promise<RedisStateStore> {
  try {
    return await RedisStateStore.connect({
      url: config.redisUrl,
      namespace: config.namespace,
      redisOptions: redisOptionsOf(config),
    });
  } catch (error) {
    throw new UsageError(
      `cannot reach Redis at ${redactCredentials(config.redisUrl)} (${redactCredentials((error as Error).message)}); start redis-server or set BATUTA_REDIS_URL / --redis`,
    );
  }
}

/** Loads the configured DAG folder; reports broken files on stderr and keeps the good ones. */
export async function loadFolder(
  config: CliConfig,
  operators: OperatorRegistry,
  check?: (dag: DagSpec) => DagIssue[],
): Promise<DagFolder> {
  const folder = new DagFolder(config.dags, operators, check);
  const change = await folder.scan();
  for (const failure of change.failed) console.error(failure.message);
  return folder;
}

/** Finds a DAG by id in the configured folder, or explains where it looked. */
export async function findDag(config: CliConfig, operators: OperatorRegistry, dagId: string): Promise<DagSpec> {
  const folder = await loadFolder(config, operators);
  const dag = folder.dags.get(dagId);
  if (!dag) {
    const known = [...folder.dags.keys()].join(', ') || 'none';
    throw new NotFoundError(
      `no DAG '${dagId}' in ${folder.dir} (found: ${known}); point --dags or BATUTA_DAGS at the folder`,
    );
  }
  return dag;
}

/** A DAG check that every task fits a worker pool: a task no pool can run is an error at load time. */
export function placementCheck(pools: readonly WorkerPool[]): (dag: DagSpec) => DagIssue[] {
  return (dag) =>
    placeDag(dag, pools).issues.map((issue) => ({ code: issue.code, field: issue.field, message: issue.message }));
}

/**
 * The configured task-log store: Redis (keys expiring with the run retention), files under
 * `logs.folder`, or none (a memory store nobody reads). The caller closes it.
 */
export function openLogStore(config: CliConfig): LogStore {
  const caps = { maxLinesPerAttempt: config.logs.maxLinesPerAttempt, maxLinesPerRun: config.logs.maxLinesPerRun };
  switch (config.logs.store) {
    case 'file':
      return new FileLogStore({ folder: config.logs.folder, caps });
    case 'none':
      return new MemoryLogStore({ caps: { maxLinesPerAttempt: 0, maxLinesPerRun: 0 } });
    default:
      return new RedisLogStore({
        url: config.redisUrl,
        namespace: config.namespace,
        redisOptions: redisOptionsOf(config),
        caps,
        ...(config.retention.runs ? { ttlMs: parseDuration(config.retention.runs) } : {}),
      });
  }
}
