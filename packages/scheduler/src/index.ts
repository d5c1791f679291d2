// @batuta/scheduler — the "when": the DAG model and its loaders, the pure run engine, the state store
// port and its memory adapter, and the coordinator that drives runs through an Executor.
export type { Clock } from './clock.js';
export { ManualClock, systemClock } from './clock.js';
export { CONTROL_STREAM } from './daemon/control-reader.js';
export { DagFolder, type FolderChange } from './daemon/dag-folder.js';
export { eventStream } from './daemon/event-intake.js';
export { SCHEDULERS_STREAM, schedulerLease } from './daemon/peer-directory.js';
export { runLease } from './daemon/run-leases.js';
export { SchedulerDaemon, type SchedulerDaemonOptions } from './daemon/scheduler-daemon.js';
export type { SchedulerLogEvent } from './daemon/scheduler-log-event.js';
export { parseDateTime } from './dag/date-time.js';
export type { DagOptions, Duration, InputsOf, RetryOptions, TaskOptions, TaskRef } from './dag/define-dag.js';
export { Dag, defineDag } from './dag/define-dag.js';
export { DURATION_PATTERN, durationProblem, formatDuration, parseDuration } from './dag/duration.js';
export { DAG_ISSUE_CODES, type DagIssueCode, formatFieldPath } from './dag/issues.js';
export { DAG_SCHEMA_ID, dagJsonSchema, dagJsonSchemaText } from './dag/json-schema.js';
export { loadDagsFromFile } from './dag/load-file.js';
export * from './dag/model.js';
export { type NormalizeOptions, normalizeDagDocument } from './dag/normalize.js';
export { resolveParams } from './dag/params.js';
export {
  CRON_PRESETS,
  cronProblem,
  DEFAULT_TIMEZONE,
  isValidTimezone,
  parseSchedule,
  resolveCron,
  SCHEDULE_PRESETS,
  type ScheduleInput,
  timezoneProblem,
} from './dag/schedule.js';
export {
  type DagDocument,
  type DagDocumentInput,
  dagDocumentSchema,
  type ScheduleDocument,
  type TaskDocument,
} from './dag/schema.js';
export type { ValidateOptions } from './dag/validate.js';
export { assertValidDag, validateDag } from './dag/validate.js';
export type { DirectoryLoadResult, LoadOptions } from './dag/yaml-loader.js';
export { loadDagDirectory, loadDagFile, parseDagYaml } from './dag/yaml-loader.js';
export * from './errors.js';
export * from './executor.js';
export {
  createOperatorRegistry,
  emptyOperator,
  importModule,
  moduleOperator,
  shellOperator,
} from './operators/builtin.js';
export * from './operators/registry.js';
export { RunEngine, type RunEngineOptions } from './run/engine.js';
export { compilePlan, type ExecutionPlan } from './run/plan.js';
export { type AttemptIdentity, MAX_RETRY_DELAY_MS, retryDelayMs, shouldRetry } from './run/retry.js';
export { evaluateTriggerRule, type RuleVerdict, type UpstreamCounts } from './run/trigger-rules.js';
export * from './run/types.js';
export type {
  CreateRunOutcome,
  RunCoordinatorOptions,
  RunHandle,
  RunRequest,
} from './runner/run-coordinator.js';
export { newRunId, RunCoordinator } from './runner/run-coordinator.js';
export { datasetStream } from './runner/run-effects.js';
export type { RunListener } from './runner/run-listener.js';
export { storableOutcome } from './runner/storable-outcome.js';
export { createTaskInvoker, type TaskInvokerOptions } from './runner/task-invoker.js';
export { toStoredJson } from './store/json-value.js';
export { MemoryStateStore } from './store/memory-store.js';
export type { RedisKeys } from './store/redis/redis-keys.js';
export type {
  RedisClientOverrides,
  RedisStateStoreConnectionOptions,
  RedisStateStoreOptions,
  RedisStateStoreUrlOptions,
} from './store/redis/redis-store.js';
export { RedisStateStore, redisStoreClientOptions } from './store/redis/redis-store.js';
export { type RedisTlsSettings, redisTlsFromEnv, redisTlsOptions } from './store/redis/redis-tls.js';
export * from './store/state-store.js';
export { taskError, toTaskError } from './task-error.js';
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
export { redactCredentials } from './util/redact-credentials.js';
