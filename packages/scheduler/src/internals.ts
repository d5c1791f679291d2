// @batuta/scheduler/internals — the parts other Batuta packages, the CLI, tests and benchmarks use but a
// user does not need (stream names, lease keys, the compiled plan, client options, pure helpers).
// Not covered by semver: import from the root entry unless you are extending Batuta itself.
export { CONTROL_STREAM } from './daemon/control-reader.js';
export { eventStream } from './daemon/event-intake.js';
export { SCHEDULERS_STREAM, schedulerLease } from './daemon/peer-directory.js';
export {
  REPAIR_DONE,
  REPAIR_REQUEST,
  type RepairDoneEvent,
  type RepairRequestEvent,
  repairClaimLease,
} from './daemon/repair-requests.js';
export { RetentionPruner } from './daemon/retention-pruner.js';
export { runLease } from './daemon/run-leases.js';
export { DURATION_PATTERN, durationProblem } from './dag/duration.js';
export { formatFieldPath } from './dag/issues.js';
export { type NormalizeOptions, normalizeDagDocument } from './dag/normalize.js';
export { cronProblem, resolveCron, timezoneProblem } from './dag/schedule.js';
export { type LogSink, withConsoleCaptured } from './logs/console-capture.js';
export { LineSplitter } from './logs/line-splitter.js';
export { LogShipper, type LogShipperOptions } from './logs/log-shipper.js';
export { attemptLogId, clipLogText } from './logs/log-store.js';
export { RunEngine, type RunEngineOptions } from './run/engine.js';
export { compilePlan, type ExecutionPlan } from './run/plan.js';
export { planRepair, type RepairInstance, selectRepairTasks } from './run/repair.js';
export { type AttemptIdentity, MAX_RETRY_DELAY_MS, retryDelayMs, shouldRetry } from './run/retry.js';
export { evaluateTriggerRule, type RuleVerdict, type UpstreamCounts } from './run/trigger-rules.js';
export { datasetStream } from './runner/dataset-stream.js';
export { storableOutcome } from './runner/storable-outcome.js';
export { toStoredJson } from './store/json-value.js';
export type { RedisKeys } from './store/redis/redis-keys.js';
export type { RedisClientOverrides } from './store/redis/redis-store.js';
export { redisStoreClientOptions } from './store/redis/redis-store.js';
export {
  type BackfillItem,
  type BackfillPlan,
  type BackfillReprocess,
  type BackfillRequest,
  type ExistingRun,
  planBackfill,
} from './triggers/backfill.js';
export { CronSchedule } from './triggers/cron-schedule.js';
export {
  compareEventIds,
  type DatasetRun,
  type DatasetRunsDue,
  type DatasetRunsInput,
  type DatasetState,
  type DatasetTriggerDecision,
  type DatasetUpdate,
  datasetRunsDue,
  evaluateDatasetTrigger,
} from './triggers/datasets.js';
export { IntervalSchedule } from './triggers/interval-schedule.js';
export { OnceSchedule } from './triggers/once-schedule.js';
export {
  adHocRunId,
  backfillRunId,
  datasetRunId,
  eventRunId,
  manualRunId,
  scheduledRunId,
} from './triggers/run-ids.js';
export type { Schedule } from './triggers/schedule.js';
export {
  cronScheduleOf,
  type DataInterval,
  type DueRunsInput,
  dueRuns,
  type PlannedRun,
  type TimedDag,
  Timetable,
  timeScheduleOf,
} from './triggers/timetable.js';
export { LatencyHistogram, type LatencyHistogramSnapshot } from './util/latency-histogram.js';
