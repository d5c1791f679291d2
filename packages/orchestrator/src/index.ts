// @batuta/orchestrator — the "where": resources, worker pools, placement and executors.
export { BullmqExecutor, type BullmqExecutorOptions } from './bullmq/bullmq-executor.js';
export { poolQueuePrefix } from './bullmq/keys.js';
export {
  type CloseOptions,
  NO_CAPACITY_FITS,
  ResourceWorker,
  type ResourceWorkerOptions,
  WORKER_LOST,
  type WorkerEvent,
} from './bullmq/resource-worker.js';
export { OrchestratorError } from './errors.js';
export { LocalExecutor, type LocalExecutorOptions } from './local/local-executor.js';
export { TASK_SKIPPED, toTaskError } from './local/task-outcome.js';
export { assertDagPlaceable, choosePool, type DagPlacement, placeDag, rankPools } from './placement/placement.js';
export {
  definePools,
  loadPoolsFile,
  PoolConfigError,
  type PoolsDocument,
  parsePoolsYaml,
} from './pools/pool-config.js';
export type { PoolsConfig, SlotPool, WorkerPool } from './pools/worker-pool.js';
export {
  addResources,
  fits,
  formatResources,
  maxResources,
  parseCapacity,
  resourcesEqual,
  subtractResources,
  zeroResources,
} from './resources/resources.js';
