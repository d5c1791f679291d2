// `batuta worker --pool NAME`: a resource-admitting worker of one pool, running tasks of the DAGs in the
// configured folder (the same files the scheduler loads). SIGTERM drains running attempts and exits.
import { hostname } from 'node:os';
import { parseCapacity, ResourceWorker, workerMetrics } from '@batuta/orchestrator';
import { createTaskInvoker, type OperatorRegistry, type SchedulerLogEvent, SchedulerMetrics } from '@batuta/scheduler';
import { UsageError } from '../cli-error.js';
import type { CliConfig } from '../config.js';
import { redisOptionsOf } from '../redis-options.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, shutdownWithin } from '../shutdown-deadline.js';
import { loadFolder, openLogStore, openStoreWaiting, STARTUP_WAIT_MS } from '../store.js';
import { jsonLog, poolsOf, serveMetrics } from './scheduler.js';
import { workerLogFields } from './worker-log-event.js';
import type { StallDetection } from './worker-stall-detection.js';

/** How long a stopping worker lets running attempts finish before handing them back. */
const DRAIN_DEADLINE_MS = 60_000;

export async function workerMain(
  config: CliConfig,
  operators: OperatorRegistry,
  options: { pool: string; capacity?: string; stallDetection?: StallDetection; shutdownTimeoutMs?: number },
): Promise<number> {
  const { pools, slotPools } = await poolsOf(config);
  const pool = pools.find((p) => p.name === options.pool);
  if (!pool && !options.capacity) {
    throw new UsageError(
      `no pool '${options.pool}' in ${config.pools ?? 'the default pools'} (pools: ${pools.map((p) => p.name).join(', ')}); give --capacity or fix --pools`,
    );
  }
  const capacity = options.capacity ? parseCapacity(options.capacity) : pool!.capacity;
  // Started during a Redis outage (or just before one): wait for it as long as the outage grace.
  const store = await openStoreWaiting(config, options.stallDetection?.outageGraceMs ?? STARTUP_WAIT_MS, jsonLog);
  // Task output goes here, never to this process's stdout (which stays JSON lines).
  const logStore = openLogStore(config);
  const folder = await loadFolder(config, operators);
  const reload = setInterval(() => void folder.scan(), 2_000);
  const metrics = config.metricsPort === undefined ? undefined : new SchedulerMetrics();
  if (metrics) store.onRoundTrip = (operation, ms) => metrics.observeRoundTrip(operation, ms);
  const perWorker = metrics ? workerMetrics(metrics.registry, options.pool) : undefined;
  const worker = new ResourceWorker({
    redisUrl: config.redisUrl,
    redisOptions: redisOptionsOf(config),
    namespace: config.namespace,
    pool: options.pool,
    capacity,
    slotPools,
    ...options.stallDetection,
    name: `${hostname()}:${process.pid}:${options.pool}`,
    invoke: createTaskInvoker({ resolveDag: (id) => folder.dags.get(id), store, operators }),
    logStore,
    onEvent: (event) => {
      perWorker?.onEvent(event);
      jsonLog(workerLogFields(event) as SchedulerLogEvent);
    },
  });
  await worker.start();
  const metricsServing = metrics
    ? await serveMetrics(config, metrics, { pools: pools.filter((p) => p.name === options.pool), slotPools })
    : undefined;
  jsonLog({ event: 'worker_started', pool: options.pool, capacity, dagIds: [...folder.dags.keys()] });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  // Running attempts may use the drain deadline; closing the connections after them gets the shutdown timeout.
  const boundMs = (worker.runningCount() > 0 ? DRAIN_DEADLINE_MS : 0) + shutdownTimeoutMs;
  jsonLog({ event: 'worker_stopping', pool: options.pool, drainDeadlineMs: DRAIN_DEADLINE_MS, shutdownTimeoutMs });
  clearInterval(reload);
  // A second signal stops waiting: running attempts are handed back for another worker (same try).
  const handBack = () => void worker.close({ drain: false });
  process.once('SIGTERM', handBack);
  process.once('SIGINT', handBack);
  return shutdownWithin(
    'worker',
    boundMs,
    async () => {
      await worker.close({ drain: true, deadlineMs: DRAIN_DEADLINE_MS });
      await logStore.close();
      await store.close();
      await metricsServing?.close();
    },
    jsonLog,
  );
}
