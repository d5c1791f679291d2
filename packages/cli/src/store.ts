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
  type SchedulerLogEvent,
} from '@batuta/scheduler';
import { NotFoundError, UnreachableError } from './cli-error.js';
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
    throw new UnreachableError(
      `cannot reach Redis at ${redactCredentials(config.redisUrl)} (${redactCredentials((error as Error).message)}); start redis-server or set BATUTA_REDIS_URL / --redis`,
    );
  }
}

/** How long a daemon waits for Redis at start by default: the default outage grace (5 min). */
export const STARTUP_WAIT_MS = 300_000;

/**
 * openStore for a daemon starting while Redis may be briefly away (a restart, a failover): tries again
 * with a growing pause (0.5 s doubling to 5 s), logging each failure (`redis_unreachable`), for at most
 * `waitMs`; then fails as openStore does (exit 4). A daemon that exits at once would need its supervisor
 * to restart it, and one started just before an outage would be lost for good without one.
 */
export async function openStoreWaiting(
  config: CliConfig,
  waitMs: number,
  log: (event: SchedulerLogEvent) => void,
): Promise<RedisStateStore> {
  const startedMs = Date.now();
  let pauseMs = 500;
  for (;;) {
    try {
      return await openStore(config);
    } catch (error) {
      const waitedMs = Date.now() - startedMs;
      if (!(error instanceof UnreachableError) || waitedMs + pauseMs > waitMs) throw error;
      log({ event: 'redis_unreachable', level: 'warn', waitedMs, retryInMs: pauseMs, waitMs, message: error.message });
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      pauseMs = Math.min(pauseMs * 2, 5_000);
    }
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
