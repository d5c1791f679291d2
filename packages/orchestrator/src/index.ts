// @batuta/orchestrator — the "where": resources, worker pools, placement and executors.

export { desiredWorkers, type PoolBacklog } from './autoscale/desired-workers.js';
export {
  LocalProcessScaler,
  type LocalProcessScalerOptions,
  type ScalerEvent,
} from './autoscale/local-process-scaler.js';
export { type PoolMetrics, type PoolMetricsOptions, poolMetrics } from './autoscale/pool-metrics.js';
export { type PoolStatus, PoolStatusReader, type PoolStatusReaderOptions } from './autoscale/pool-status.js';
export { NO_CAPACITY_FITS, WORKER_LOST } from './bullmq/attempt-outcomes.js';
export { BullmqExecutor, type BullmqExecutorOptions } from './bullmq/bullmq-executor.js';
export { ResourceWorker } from './bullmq/resource-worker.js';
export type { CloseOptions, ResourceWorkerOptions, WorkerEvent } from './bullmq/resource-worker-options.js';
export { type CreateSchedulerOptions, createScheduler, type EmbeddedScheduler } from './embedded/create-scheduler.js';
export { type DagRunResult, type RunDagOptions, runDag } from './embedded/run-dag.js';
export { OrchestratorError } from './errors.js';
export { LocalExecutor, type LocalExecutorOptions } from './local/local-executor.js';
export { machineCapacity } from './local/machine-capacity.js';
export { TASK_SKIPPED } from './local/task-outcome.js';
export { registerPoolMetrics, workerMetrics } from './metrics/pool-metrics-collector.js';
export type { Placement, PlacementIssue, PlacementOptions, PlacementRequest } from './placement/placement.js';
export { assertDagPlaceable, choosePool, type DagPlacement, placeDag } from './placement/placement.js';
export {
  definePools,
  loadPoolsFile,
  PoolConfigError,
  type PoolIssue,
  type PoolsDocument,
  parsePoolsYaml,
  poolsDocumentSchema,
} from './pools/pool-config.js';
export type { PoolsConfig, SlotPool, WorkerPool } from './pools/worker-pool.js';
export { POOL_NAME_PATTERN } from './pools/worker-pool.js';
export { fits, formatResources, parseCapacity } from './resources/resources.js';
