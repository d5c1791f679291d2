// @batuta/orchestrator/internals — the parts the CLI, tests and benchmarks use but a
// user does not need (stream names, lease keys, the compiled plan, client options, pure helpers).
// Not covered by semver: import from the root entry unless you are extending Batuta itself.
export { packedWorkers } from './autoscale/desired-workers.js';
export { BULLMQ_CHECKED_VERSION } from './bullmq/bullmq-internals.js';
export {
  attemptJobId,
  bullmqPriority,
  cancelChannel,
  poolQueuePrefix,
  resultsStreamKey,
  slotPoolKeys,
} from './bullmq/keys.js';
export { poolQueue } from './bullmq/pool-queue.js';
export { SlotPools } from './bullmq/slot-pools.js';
export { rankPools } from './placement/placement.js';
export { slotNeed, slotPoolNames, workerNeed } from './pools/worker-pool.js';
export { ResourceLedger } from './resources/resource-ledger.js';
export {
  addResources,
  maxResources,
  minResources,
  resourcesEqual,
  scaleResources,
  subtractResources,
  zeroResources,
} from './resources/resources.js';
