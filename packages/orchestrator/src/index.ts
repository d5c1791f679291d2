// @batuta/orchestrator — the "where": resources, worker pools, placement and executors.
export { OrchestratorError } from './errors.js';
export { LocalExecutor, type LocalExecutorOptions } from './local/local-executor.js';
export { TASK_SKIPPED, toTaskError } from './local/task-outcome.js';
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
