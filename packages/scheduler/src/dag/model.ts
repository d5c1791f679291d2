// The normalized DAG model: what YAML files and the TypeScript DSL both compile to, and what the
// run engine, the store and the executors consume. Plain data (plus optional task functions).
import type { z } from 'zod';
import type { LogStream } from '../logs/log-store.js';

/** Task-instance states, Airflow's vocabulary. */
export type TaskState =
  | 'none'
  | 'scheduled'
  | 'queued'
  | 'running'
  | 'success'
  | 'failed'
  | 'up_for_retry'
  | 'upstream_failed'
  | 'skipped'
  | 'removed';

/** States a task instance never leaves on its own. */
export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'success',
  'failed',
  'skipped',
  'upstream_failed',
  'removed',
]);

/** DAG-run states. */
export type RunState = 'queued' | 'running' | 'success' | 'failed';

/** The eleven Airflow trigger rules. */
export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'all_skipped',
  'one_success',
  'one_failed',
  'one_done',
  'none_failed',
  'none_failed_min_one_success',
  'none_skipped',
  'always',
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/** What a task declares it needs to run; a worker admits it only while its free resources cover this. */
export interface ResourceSpec {
  cpu: number;
  memoryMb: number;
  gpu: number;
  /** Custom counters, e.g. `{ licenses: 1 }`. */
  custom: Record<string, number>;
}

/** How failed attempts are retried. Airflow's defaults: 0 retries, 300 s delay. */
export interface RetryPolicy {
  /** Retries after the first attempt: a task runs at most `retries + 1` times. */
  retries: number;
  delayMs: number;
  backoff: 'fixed' | 'exponential';
  /** Cap on one delay (Airflow's max_retry_delay); never above 24 h. */
  maxDelayMs: number;
  /** Deterministic jitter: exponential delays land in [m, 2m) from a hash of (run, task, mapIndex, try). */
  jitter: boolean;
  /** Error codes or error names that fail the task at once, without retrying. */
  nonRetryable: string[];
}

/** Where a mapped task's list comes from: an upstream's output (a list) or a literal list. */
export type MapSource = { fromTask: string } | { values: unknown[] };

/** Dynamic task mapping: one instance per element (cross product when several sources). */
export interface MapSpec {
  /** Argument name → source. Each instance receives `{ [name]: element }` as its `item`. */
  over: Record<string, MapSource>;
  /** Expansion cap (Airflow's max_map_length, default 1024). Longer lists fail the task. */
  maxLength: number;
}

/** Task-level callbacks (Airflow's on_execute/on_success/on_failure/on_retry/on_skipped). */
export interface TaskCallbacks {
  onExecute?: (event: TaskEvent) => void | Promise<void>;
  onSuccess?: (event: TaskEvent) => void | Promise<void>;
  onFailure?: (event: TaskEvent) => void | Promise<void>;
  onRetry?: (event: TaskEvent) => void | Promise<void>;
  onSkipped?: (event: TaskEvent) => void | Promise<void>;
}

/** DAG-level callbacks. */
export interface DagCallbacks {
  onSuccess?: (event: RunEvent) => void | Promise<void>;
  onFailure?: (event: RunEvent) => void | Promise<void>;
}

/** What a task callback receives. */
export interface TaskEvent {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
  state: TaskState;
  reason: string;
  error?: TaskError;
}

/** What a DAG callback receives. */
export interface RunEvent {
  dagId: string;
  runId: string;
  state: RunState;
  reason: string;
}

/** A failed attempt's error, as plain data (it crosses processes). */
export interface TaskError {
  message: string;
  /** Error class name, e.g. `TypeError`, `TaskTimeoutError`. */
  name?: string;
  /** Stable code, e.g. `TASK_TIMEOUT`, `ECONNREFUSED`. */
  code?: string;
  /** false: fail now, skip remaining retries (Airflow's AirflowFailException). */
  retryable?: boolean;
  stack?: string;
}

/** What an executing task sees. `inputs` holds its upstreams' outputs keyed by task id. */
export interface TaskContext<Inputs = Record<string, unknown>, Item = unknown, Params = Record<string, unknown>> {
  dagId: string;
  runId: string;
  taskId: string;
  /** -1 for an unmapped task, 0..N-1 for mapped instances. */
  mapIndex: number;
  tryNumber: number;
  /** The run's logical date (ms since epoch, UTC). */
  logicalDateMs: number;
  /** The DAG file this task was loaded from, when any (relative paths in operators resolve against it). */
  dagFile?: string;
  /** The run's configuration (trigger conf merged over the DAG's params defaults, parsed by its schema). */
  params: Params;
  inputs: Inputs;
  /** The mapped element for a mapped instance (`{ [argName]: element }`); undefined otherwise. */
  item: Item;
  /** Aborted on timeout or cancellation; long tasks should pass it on or check it. */
  signal: AbortSignal;
  /** Writes one line to the attempt's log (stream `log` unless told; `console` output is captured too). */
  log: (message: string, stream?: LogStream) => void;
  /** Reports progress in [0, 1] for the live view. */
  progress: (fraction: number) => void;
}

/** A task body defined in TypeScript. */
export type TaskFunction = (context: TaskContext) => unknown | Promise<unknown>;

/** One task in the normalized model. */
export interface TaskSpec {
  id: string;
  /** Registered operator name (`empty`, `shell`, `module`, `ml.batchPredict` …) or `function` for TS bodies. */
  operator: string;
  /** Operator arguments (YAML `with:`). */
  with: Record<string, unknown>;
  /** Direct upstream task ids, in declaration order. */
  upstream: string[];
  triggerRule: TriggerRule;
  retry: RetryPolicy;
  /** Attempt timeout (Airflow's execution_timeout); undefined = none. */
  timeoutMs?: number;
  resources: ResourceSpec;
  /** Worker pool name; undefined = placement picks one from the resources. */
  pool?: string;
  priorityWeight: number;
  dependsOnPast: boolean;
  /** A branch task's output names the direct downstream ids to follow (a string, a list, or null). */
  branch: boolean;
  /** Short-circuit: a falsy output skips all descendants (`all`) or only direct downstreams (`direct`). */
  shortCircuit?: 'all' | 'direct';
  map?: MapSpec;
  /** Datasets this task updates when it succeeds. */
  outlets: string[];
  doc?: string;
  fn?: TaskFunction;
  callbacks?: TaskCallbacks;
}

/** When a DAG runs. */
export type ScheduleSpec =
  | { kind: 'cron'; cron: string; timezone: string }
  | { kind: 'every'; everyMs: number }
  | { kind: 'once' }
  | { kind: 'events'; events: string[] }
  | { kind: 'datasets'; datasets: string[]; orCron?: { cron: string; timezone: string } };

/** A zod schema of a DAG's params (`z.object({...})`); its output must be plain JSON, as a run's conf is stored. */
export type ParamsSchema<Output extends Record<string, unknown> = Record<string, unknown>> = z.ZodType<
  Output,
  Record<string, unknown>
>;

/** One declared DAG parameter (a small JSON-Schema-like subset). */
export interface ParamSpec {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';
  default?: unknown;
  description?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  required?: boolean;
}

/** Per-DAG access: each entry is a role (`viewer`, `operator`, `admin`) or `user:NAME`. */
export interface DagAccess {
  /** Who may see the DAG and its runs; absent: everyone. Admins always may. */
  view?: string[];
  /** Who may trigger, pause, cancel, clear and mark; absent: every operator. Admins always may. */
  operate?: string[];
}

/** One DAG in the normalized model. Tasks are in declaration order. */
export interface DagSpec {
  id: string;
  description?: string;
  tags: string[];
  owner?: string;
  /** Who may see and operate the DAG in the web API; absent: everyone, by role. */
  access?: DagAccess;
  schedule?: ScheduleSpec;
  startDateMs?: number;
  endDateMs?: number;
  catchup: boolean;
  /** Stored paused when a scheduler first sees it; unset: the scheduler's `pausedOnCreation` decides. */
  pausedOnCreation?: boolean;
  maxActiveRuns: number;
  maxActiveTasks: number;
  params: Record<string, ParamSpec>;
  /**
   * The zod schema a TypeScript DAG gave as `params`; when set it checks (and fills the defaults of) every
   * run's conf, and `params` only describes it (for listings and warnings about unknown keys).
   */
  paramsSchema?: ParamsSchema;
  tasks: TaskSpec[];
  callbacks?: DagCallbacks;
  /** The file this DAG was loaded from, when it came from one. */
  sourceFile?: string;
}

/** Airflow-like defaults for task settings a definition leaves out. */
export const DEFAULT_RETRY: RetryPolicy = {
  retries: 0,
  delayMs: 300_000,
  backoff: 'fixed',
  maxDelayMs: 86_400_000,
  jitter: true,
  nonRetryable: [],
};
export const DEFAULT_RESOURCES: ResourceSpec = { cpu: 1, memoryMb: 256, gpu: 0, custom: {} };
export const DEFAULT_MAX_MAP_LENGTH = 1024;
export const DEFAULT_MAX_ACTIVE_RUNS = 16;
export const DEFAULT_MAX_ACTIVE_TASKS = 16;
/**
 * Ids of DAGs and tasks, and event names: letters, digits, `_`, `.` and `-`, as Airflow's, never `..`.
 * No `/`, `:`, `*` or `..`: they become parts of store keys, file names and CLI patterns.
 */
export const ID_PATTERN = /^(?!.*\.\.)[A-Za-z0-9_.-]{1,250}$/;
