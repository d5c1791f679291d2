// @batuta/scheduler — the "when": the DAG model and its loaders, the pure run engine, the state store
// port and its memory adapter, and the coordinator that drives runs through an Executor.
export type { Clock } from './clock.js';
export { ManualClock, systemClock } from './clock.js';
export {
  DagFolder,
  type DirectoryLoadResult,
  type FolderChange,
  loadDagDirectory,
} from './daemon/dag-folder.js';
export {
  REPAIR_TIMEOUT_MS,
  type RepairRequestResult,
  type RequestRepairOptions,
  requestRepair,
} from './daemon/request-repair.js';
export type { RetentionPolicy } from './daemon/retention-pruner.js';
export { SchedulerDaemon, type SchedulerDaemonOptions } from './daemon/scheduler-daemon.js';
export type { SchedulerLogEvent } from './daemon/scheduler-log-event.js';
export { parseDateTime } from './dag/date-time.js';
export type { DagOptions, Duration, InputsOf, RetryOptions, TaskOptions, TaskRef } from './dag/define-dag.js';
export { Dag, defineDag } from './dag/define-dag.js';
export { formatDuration, parseDuration } from './dag/duration.js';
export { DAG_ISSUE_CODES, type DagIssueCode, idProblem } from './dag/issues.js';
export { DAG_SCHEMA_ID, dagJsonSchema, dagJsonSchemaText } from './dag/json-schema.js';
export { loadDagsFromFile } from './dag/load-file.js';
export * from './dag/model.js';
export { resolveParams } from './dag/params.js';
export {
  CRON_PRESETS,
  DEFAULT_TIMEZONE,
  isValidTimezone,
  parseSchedule,
  SCHEDULE_PRESETS,
  type ScheduleInput,
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
export type { LoadOptions } from './dag/yaml-loader.js';
export { loadDagFile, parseDagYaml } from './dag/yaml-loader.js';
export * from './errors.js';
export * from './executor.js';
export { FileLogStore } from './logs/file-log-store.js';
export { type FollowLogOptions, followLog } from './logs/follow-log.js';
export {
  DEFAULT_LOG_CAPS,
  LOG_STREAMS,
  type LogAttempt,
  type LogCaps,
  type LogLine,
  type LogPage,
  type LogReadOptions,
  type LogStore,
  type LogStream,
  MAX_LOG_LINE_CHARS,
} from './logs/log-store.js';
export { MemoryLogStore } from './logs/memory-log-store.js';
export { RedisLogStore, type RedisLogStoreOptions } from './logs/redis-log-store.js';
export { type MetricsServer, startMetricsServer } from './metrics/metrics-server.js';
export { RunTracer, type RunTracerOptions } from './metrics/run-tracer.js';
export { SchedulerMetrics, type SchedulerMetricsOptions } from './metrics/scheduler-metrics.js';
export {
  createOperatorRegistry,
  emptyOperator,
  importModule,
  moduleOperator,
  shellOperator,
} from './operators/builtin.js';
export * from './operators/registry.js';
export { type Expansion, expandOver } from './run/expansion.js';
export { mapItem } from './run/mapped-group.js';
export type {
  MarkState,
  RepairAggregate,
  RepairChange,
  RepairPlan,
  RepairRequest,
  RepairSelection,
} from './run/repair.js';
export * from './run/types.js';
export type {
  ClearTasksOptions,
  CreateRunOutcome,
  MarkTasksOptions,
  RepairOutcome,
  RunCoordinatorOptions,
  RunHandle,
  RunRequest,
} from './runner/run-coordinator.js';
export { newRunId, RunCoordinator } from './runner/run-coordinator.js';
export type { RunListener } from './runner/run-listener.js';
export { createTaskInvoker, type TaskInvokerOptions } from './runner/task-invoker.js';
export { MemoryStateStore } from './store/memory-store.js';
export type {
  RedisStateStoreConnectionOptions,
  RedisStateStoreOptions,
  RedisStateStoreUrlOptions,
} from './store/redis/redis-store.js';
export { RedisStateStore } from './store/redis/redis-store.js';
export { type RedisTlsSettings, redisTlsFromEnv, redisTlsOptions } from './store/redis/redis-tls.js';
export * from './store/state-store.js';
export {
  endedTryOf,
  TASK_TRY_HISTORY_LIMIT,
  TASK_TRY_TEXT_MAX_CHARS,
  triesOfInstance,
} from './store/task-tries.js';
export { taskError, toTaskError } from './task-error.js';
export { redactCredentials } from './util/redact-credentials.js';
export {
  checkSafeJson,
  DEFAULT_JSON_LIMITS,
  FORBIDDEN_JSON_KEYS,
  type JsonLimits,
  parseSafeJson,
} from './util/safe-json.js';
