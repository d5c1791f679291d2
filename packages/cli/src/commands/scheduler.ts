// `batuta scheduler`: the daemon. Loads the DAG folder (reloading changes), turns triggers into runs
// and drives them through the BullMQ worker pools (or in this process with --executor local), with
// Redis as the system of record. One JSON line per event on stdout. SIGTERM/SIGINT stop it cleanly.
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  BullmqExecutor,
  LocalExecutor,
  LocalProcessScaler,
  loadPoolsFile,
  machineCapacity,
  PoolStatusReader,
  type PoolsConfig,
  poolMetrics,
  registerPoolMetrics,
} from '@batuta/orchestrator';
import { poolQueue } from '@batuta/orchestrator/internals';
import {
  createTaskInvoker,
  type DagFolder,
  type Executor,
  type OperatorRegistry,
  parseDuration,
  RedisStateStore,
  RunCoordinator,
  type RunListener,
  RunTracer,
  redactCredentials,
  SchedulerDaemon,
  type SchedulerLogEvent,
  SchedulerMetrics,
  startMetricsServer,
} from '@batuta/scheduler';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { CliConfig } from '../config.js';
import { redisOptionsOf } from '../redis-options.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, shutdownWithin } from '../shutdown-deadline.js';
import { loadFolder, openLogStore, openStoreWaiting, placementCheck, STARTUP_WAIT_MS } from '../store.js';

/** One JSON line per event: what log shippers and `jq` read best. Passwords in URLs never reach the log. */
export function jsonLog(event: SchedulerLogEvent): void {
  const line = JSON.stringify({ ts: new Date().toISOString(), level: event.level ?? 'info', ...event });
  process.stdout.write(`${redactCredentials(line)}\n`);
}

/** Scans the DAG folder again and logs what changed (a broken file keeps its last good version). */
export async function rescanFolder(folder: DagFolder): Promise<void> {
  const change = await folder.scan();
  for (const loaded of change.loaded) jsonLog({ event: 'dag_file_loaded', file: loaded.file, dagIds: loaded.dagIds });
  for (const removed of change.removed)
    jsonLog({ event: 'dag_file_removed', file: removed.file, dagIds: removed.dagIds });
  for (const failed of change.failed) {
    jsonLog({
      event: 'dag_file_invalid',
      level: 'error',
      file: failed.file,
      keptDagIds: failed.keptDagIds,
      message: failed.message,
    });
  }
}

/** The pools of the deployment: the pools file, or one `default` pool sized to this machine. */
export async function poolsOf(config: CliConfig): Promise<PoolsConfig> {
  if (config.pools) return loadPoolsFile(config.pools);
  return {
    pools: [{ name: 'default', capacity: machineCapacity(), labels: {}, minWorkers: 1, maxWorkers: 1 }],
    slotPools: [],
  };
}

/** Starts one LocalProcessScaler per pool: `batuta worker` processes follow each pool's backlog. */
async function startScalers(config: CliConfig, pools: PoolsConfig): Promise<() => Promise<void>> {
  const connection = new Redis(config.redisUrl, { ...redisOptionsOf(config), maxRetriesPerRequest: null });
  const bin = fileURLToPath(new URL('../../bin/batuta.js', import.meta.url));
  const queues: Queue[] = [];
  const scalers = pools.pools.map((pool) => {
    const queue = poolQueue(connection, config.namespace, pool.name);
    queues.push(queue);
    return new LocalProcessScaler({
      pool,
      slotPools: pools.slotPools,
      command: [process.execPath, bin, 'worker', '--pool', pool.name],
      env: {
        ...process.env,
        BATUTA_REDIS_URL: config.redisUrl,
        BATUTA_NAMESPACE: config.namespace,
        BATUTA_DAGS: config.dags,
        ...(config.pools ? { BATUTA_POOLS: config.pools } : {}),
      },
      backlog: () => poolMetrics(queue, { pool, slotPools: pools.slotPools }),
      onEvent: (event) =>
        jsonLog({
          event: `scaler_${event.type}`,
          pool: pool.name,
          ...(event as unknown as Record<string, unknown>),
          type: undefined,
        }),
    });
  });
  for (const scaler of scalers) await scaler.start();
  return async () => {
    await Promise.all(scalers.map((scaler) => scaler.stop()));
    await Promise.all(queues.map((queue) => queue.close()));
    connection.disconnect();
  };
}

export async function schedulerCommand(
  config: CliConfig,
  operators: OperatorRegistry,
  options: { autoscale?: boolean; shutdownTimeoutMs?: number; outageGraceMs?: number | undefined } = {},
): Promise<number> {
  // Started during a Redis outage (or just before one): wait for it as long as the outage grace.
  const store = await openStoreWaiting(config, options.outageGraceMs ?? STARTUP_WAIT_MS, jsonLog);
  const logStore = openLogStore(config);
  const poolsConfig = config.executor === 'bullmq' ? await poolsOf(config) : undefined;
  // A task that fits no pool is refused when its DAG loads, not left waiting at run time.
  const folder = await loadFolder(config, operators, poolsConfig ? placementCheck(poolsConfig.pools) : undefined);
  const schedulerId = `${hostname()}:${process.pid}`;
  let executor: Executor;
  if (config.executor === 'local') {
    executor = new LocalExecutor({
      capacity: machineCapacity(),
      invoke: createTaskInvoker({ resolveDag: (id) => folder.dags.get(id), store, operators }),
      logStore,
    });
  } else {
    const { pools, slotPools } = poolsConfig!;
    executor = new BullmqExecutor({
      redisUrl: config.redisUrl,
      redisOptions: redisOptionsOf(config),
      namespace: config.namespace,
      pools,
      slotPools,
      consumer: schedulerId,
      ...(options.outageGraceMs === undefined ? {} : { outageGraceMs: options.outageGraceMs }),
      onError: (error) => jsonLog({ event: 'executor_error', level: 'error', message: String(error) }),
    });
  }
  const metrics = config.metricsPort === undefined ? undefined : new SchedulerMetrics();
  if (metrics && store instanceof RedisStateStore) store.onRoundTrip = (op, ms) => metrics.observeRoundTrip(op, ms);
  const listener: RunListener = {
    runChanged: (run) => {
      if (run.state === 'success' || run.state === 'failed') {
        jsonLog({ event: 'run_finished', dagId: run.dagId, runId: run.runId, state: run.state, reason: run.reason });
      }
    },
    callbackFailed: (runId, what, error) =>
      jsonLog({ event: 'callback_failed', level: 'warn', runId, what, message: String(error) }),
  };
  // Spans go to whatever OpenTelemetry provider the process registered (none: no-op); see operations.md.
  const tracer = new RunTracer();
  const coordinator = new RunCoordinator({
    store,
    executor,
    listener: tracer.listener(metrics ? metrics.listener(listener) : listener),
  });
  const daemon = new SchedulerDaemon({
    store,
    coordinator,
    schedulerId,
    dags: () => folder.dags,
    pausedOnCreation: config.pausedOnCreation,
    ...(config.retention.runs ? { retention: { runsMs: parseDuration(config.retention.runs) } } : {}),
    logStore,
    reload: () => rescanFolder(folder),
    log: metrics
      ? (event) => {
          metrics.observeLog(event);
          jsonLog(event);
        }
      : jsonLog,
  });
  const metricsServing = metrics ? await serveMetrics(config, metrics, poolsConfig) : undefined;
  jsonLog({
    event: 'dags_loaded',
    folder: folder.dir,
    dagIds: [...folder.dags.keys()],
    executor: config.executor,
    namespace: config.namespace,
    retentionRuns: config.retention.runs ?? 'forever',
    pausedOnCreation: config.pausedOnCreation,
  });
  // Listening before the start: a start held up by an unreachable Redis must still be stoppable.
  const signalled = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      jsonLog({ event: 'signal', signal });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  const starting = (async () => {
    await daemon.start();
    return options.autoscale && config.executor === 'bullmq'
      ? await startScalers(config, await poolsOf(config))
      : undefined;
  })();
  const first = await Promise.race([starting.then((stop) => ({ stop })), signalled.then(() => undefined)]);
  if (first) await signalled;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  jsonLog({ event: 'scheduler_stopping', schedulerId, shutdownTimeoutMs });
  return shutdownWithin(
    'scheduler',
    shutdownTimeoutMs,
    async () => {
      // A start still under way finishes first (inside the bound), so nothing it starts is left running.
      const stopScalers = await starting;
      await stopScalers?.();
      await daemon.stop();
      await coordinator.close();
      tracer.close();
      await logStore.close();
      await store.close();
      await metricsServing?.close();
    },
    jsonLog,
  );
}

/** The metrics server of a scheduler or worker process, with the pools' gauges when there are pools. */
export async function serveMetrics(
  config: CliConfig,
  metrics: SchedulerMetrics,
  pools: PoolsConfig | undefined,
): Promise<{ close(): Promise<void> }> {
  let reader: PoolStatusReader | undefined;
  let connection: Redis | undefined;
  if (pools) {
    connection = new Redis(config.redisUrl, { ...redisOptionsOf(config), maxRetriesPerRequest: null });
    connection.on('error', () => {});
    reader = new PoolStatusReader({ connection, namespace: config.namespace, pools });
    registerPoolMetrics(metrics.registry, reader);
  }
  const server = await startMetricsServer(metrics.registry, { port: config.metricsPort ?? 0 });
  jsonLog({ event: 'metrics_serving', url: server.url });
  return {
    close: async () => {
      await server.close();
      await reader?.close();
      connection?.disconnect();
    },
  };
}
