// The TypeScript DSL: `defineDag({...})`, then `dag.task(id, {...})`. Upstreams are passed as task
// references, so a typo in an upstream is a compile error, and each task's `inputs` are typed from
// its upstreams' outputs.
import { parseDuration } from './duration.js';
import {
  type DagCallbacks,
  type DagSpec,
  DEFAULT_MAX_ACTIVE_RUNS,
  DEFAULT_MAX_ACTIVE_TASKS,
  DEFAULT_MAX_MAP_LENGTH,
  DEFAULT_RESOURCES,
  DEFAULT_RETRY,
  type MapSource,
  type MapSpec,
  type ParamSpec,
  type ResourceSpec,
  type RetryPolicy,
  type ScheduleSpec,
  type TaskCallbacks,
  type TaskContext,
  type TaskFunction,
  type TaskSpec,
  type TriggerRule,
} from './model.js';
import { parseSchedule } from './schedule.js';
import { assertValidDag } from './validate.js';

/** A handle on a defined task; its type carries the task's id and output type. */
export interface TaskRef<Id extends string = string, Output = unknown> {
  readonly id: Id;
  /** Phantom: never set at run time; carries the output type. */
  readonly output?: Output;
}

// biome-ignore lint/suspicious/noExplicitAny: a reference of any output type, used only in constraints
type AnyRef = TaskRef<string, any>;

/** The typed `inputs` of a task: upstream id → that upstream's output. */
export type InputsOf<Upstream extends readonly AnyRef[]> = {
  [R in Upstream[number] as R['id']]: R extends TaskRef<string, infer O> ? O : never;
};

/** A duration: milliseconds or a string such as `30s`, `10m`, `4h`. */
export type Duration = number | string;

/** Retry settings in the DSL (durations as numbers of ms or strings). */
export interface RetryOptions {
  retries?: number;
  delay?: Duration;
  backoff?: 'fixed' | 'exponential';
  maxDelay?: Duration;
  jitter?: boolean;
  nonRetryable?: string[];
}

/** Settings every kind of task accepts. */
export interface TaskOptions<Upstream extends readonly AnyRef[]> {
  upstream?: Upstream;
  triggerRule?: TriggerRule;
  retry?: RetryOptions;
  timeout?: Duration;
  resources?: Partial<ResourceSpec>;
  pool?: string;
  priorityWeight?: number;
  dependsOnPast?: boolean;
  outlets?: string[];
  doc?: string;
  callbacks?: TaskCallbacks;
}

/** DAG-wide settings for `defineDag`. */
export interface DagOptions {
  id: string;
  description?: string;
  tags?: string[];
  owner?: string;
  /** A cron string or preset (UTC), or `{ cron, timezone }`, `{ every }`, `{ events }`, `{ datasets }`. */
  schedule?:
    | string
    | { cron: string; timezone?: string }
    | { every: Duration }
    | { events: string[] }
    | { datasets: string[] };
  startDate?: Date | string;
  endDate?: Date | string;
  catchup?: boolean;
  /** Stored paused when a scheduler first sees it; unset: the scheduler's `pausedOnCreation` decides. */
  pausedOnCreation?: boolean;
  maxActiveRuns?: number;
  maxActiveTasks?: number;
  params?: Record<string, ParamSpec>;
  defaults?: Omit<TaskOptions<[]>, 'upstream' | 'callbacks' | 'outlets' | 'doc' | 'dependsOnPast'> & {
    dependsOnPast?: boolean;
  };
  callbacks?: DagCallbacks;
}

type Body<Inputs, Item, Output> = (context: TaskContext<Inputs, Item>) => Output | Promise<Output>;

/** A DAG under construction; `spec` is the validated normalized model. */
export class Dag {
  private readonly options: DagOptions;
  private readonly tasks: TaskSpec[] = [];
  private validated: DagSpec | undefined;

  constructor(options: DagOptions) {
    this.options = options;
  }

  get id(): string {
    return this.options.id;
  }

  /** A task whose body is a TypeScript function; its output type flows to its downstreams. */
  task<const Id extends string, const Upstream extends readonly AnyRef[] = [], Output = void>(
    id: Id,
    options: TaskOptions<Upstream> & { run: Body<InputsOf<Upstream>, undefined, Output> },
  ): TaskRef<Id, Awaited<Output>> {
    return this.add(id, options, { operator: 'function', fn: options.run as TaskFunction });
  }

  /** A task that runs a registered operator (`empty`, `shell`, `module`, `ml.batchPredict`…). */
  operator<const Id extends string, const Upstream extends readonly AnyRef[] = [], Output = unknown>(
    id: Id,
    options: TaskOptions<Upstream> & {
      operator: string;
      with?: Record<string, unknown>;
      /** Map the operator over lists, as `map` does for functions. */
      over?: Record<string, TaskRef<string, readonly unknown[]> | readonly unknown[]>;
      maxLength?: number;
    },
  ): TaskRef<Id, Output> {
    return this.add(id, options, {
      operator: options.operator,
      with: options.with ?? {},
      ...(options.over ? { map: toMapSpec(options.over, options.maxLength) } : {}),
    });
  }

  /** A branch: returns the id(s) of the direct downstreams to follow; the others are skipped. */
  branch<const Id extends string, const Upstream extends readonly AnyRef[] = []>(
    id: Id,
    options: TaskOptions<Upstream> & {
      run: Body<InputsOf<Upstream>, undefined, string | readonly string[] | null | undefined>;
    },
  ): TaskRef<Id, string | string[] | null> {
    return this.add(id, options, { operator: 'function', fn: options.run as TaskFunction, branch: true });
  }

  /** A short-circuit: a falsy result skips every descendant (or only direct ones with `mode: 'direct'`). */
  shortCircuit<const Id extends string, const Upstream extends readonly AnyRef[] = [], Output = boolean>(
    id: Id,
    options: TaskOptions<Upstream> & { mode?: 'all' | 'direct'; run: Body<InputsOf<Upstream>, undefined, Output> },
  ): TaskRef<Id, Awaited<Output>> {
    return this.add(id, options, {
      operator: 'function',
      fn: options.run as TaskFunction,
      shortCircuit: options.mode ?? 'all',
    });
  }

  /**
   * A mapped task: one instance per element of `over` (a cross product when several sources), each
   * receiving `item`. Downstreams see the list of the instances' outputs, in mapIndex order.
   */
  map<
    const Id extends string,
    const Over extends Record<string, TaskRef<string, readonly unknown[]> | readonly unknown[]>,
    const Upstream extends readonly AnyRef[] = [],
    Output = void,
  >(
    id: Id,
    options: TaskOptions<Upstream> & {
      over: Over;
      maxLength?: number;
      run: Body<InputsOf<Upstream>, { [K in keyof Over]: ElementOf<Over[K]> }, Output>;
    },
  ): TaskRef<Id, Awaited<Output>[]> {
    return this.add(id, options, {
      operator: 'function',
      fn: options.run as TaskFunction,
      map: toMapSpec(options.over, options.maxLength),
    });
  }

  /** The normalized, validated model (throws DagValidationError listing every problem). */
  get spec(): DagSpec {
    if (!this.validated) {
      const spec = this.build();
      assertValidDag(spec);
      this.validated = spec;
    }
    return this.validated;
  }

  private add<Id extends string, Output>(
    id: Id,
    options: TaskOptions<readonly AnyRef[]>,
    body: Partial<TaskSpec> & { operator: string },
  ): TaskRef<Id, Output> {
    const defaults = this.options.defaults ?? {};
    const timeout = options.timeout ?? defaults.timeout;
    const pool = options.pool ?? defaults.pool;
    const task: TaskSpec = {
      id,
      operator: body.operator,
      with: body.with ?? {},
      upstream: (options.upstream ?? []).map((ref) => ref.id),
      triggerRule: options.triggerRule ?? defaults.triggerRule ?? 'all_success',
      retry: toRetryPolicy({ ...defaults.retry, ...options.retry }),
      resources: toResources({ ...defaults.resources, ...options.resources }),
      priorityWeight: options.priorityWeight ?? defaults.priorityWeight ?? 1,
      dependsOnPast: options.dependsOnPast ?? defaults.dependsOnPast ?? false,
      branch: body.branch ?? false,
      outlets: options.outlets ?? [],
      ...(timeout === undefined ? {} : { timeoutMs: toMs(timeout) }),
      ...(pool === undefined ? {} : { pool }),
      ...(body.shortCircuit ? { shortCircuit: body.shortCircuit } : {}),
      ...(body.map ? { map: body.map } : {}),
      ...(body.fn ? { fn: body.fn } : {}),
      ...(options.doc === undefined ? {} : { doc: options.doc }),
      ...(options.callbacks ? { callbacks: options.callbacks } : {}),
    };
    this.tasks.push(task);
    this.validated = undefined;
    return { id };
  }

  private build(): DagSpec {
    const o = this.options;
    const schedule: ScheduleSpec | undefined = o.schedule === undefined ? undefined : toSchedule(o.schedule);
    return {
      id: o.id,
      tags: o.tags ?? [],
      catchup: o.catchup ?? false,
      maxActiveRuns: o.maxActiveRuns ?? DEFAULT_MAX_ACTIVE_RUNS,
      maxActiveTasks: o.maxActiveTasks ?? DEFAULT_MAX_ACTIVE_TASKS,
      params: o.params ?? {},
      tasks: [...this.tasks],
      ...(o.description === undefined ? {} : { description: o.description }),
      ...(o.owner === undefined ? {} : { owner: o.owner }),
      ...(o.pausedOnCreation === undefined ? {} : { pausedOnCreation: o.pausedOnCreation }),
      ...(schedule ? { schedule } : {}),
      ...(o.startDate === undefined ? {} : { startDateMs: new Date(o.startDate).getTime() }),
      ...(o.endDate === undefined ? {} : { endDateMs: new Date(o.endDate).getTime() }),
      ...(o.callbacks ? { callbacks: o.callbacks } : {}),
    };
  }
}

type ElementOf<Source> =
  Source extends TaskRef<string, readonly (infer E)[]> ? E : Source extends readonly (infer E)[] ? E : never;

/** Starts a DAG definition in TypeScript. */
export function defineDag(options: DagOptions): Dag {
  return new Dag(options);
}

function toMapSpec(
  sources: Record<string, TaskRef<string, readonly unknown[]> | readonly unknown[]>,
  maxLength: number | undefined,
): MapSpec {
  const over: Record<string, MapSource> = {};
  for (const [name, source] of Object.entries(sources)) {
    over[name] = Array.isArray(source) ? { values: [...source] } : { fromTask: (source as AnyRef).id };
  }
  return { over, maxLength: maxLength ?? DEFAULT_MAX_MAP_LENGTH };
}

function toMs(duration: Duration): number {
  return typeof duration === 'number' ? duration : parseDuration(duration);
}

function toRetryPolicy(options: RetryOptions): RetryPolicy {
  return {
    retries: options.retries ?? DEFAULT_RETRY.retries,
    delayMs: options.delay === undefined ? DEFAULT_RETRY.delayMs : toMs(options.delay),
    backoff: options.backoff ?? DEFAULT_RETRY.backoff,
    maxDelayMs: options.maxDelay === undefined ? DEFAULT_RETRY.maxDelayMs : toMs(options.maxDelay),
    jitter: options.jitter ?? DEFAULT_RETRY.jitter,
    nonRetryable: options.nonRetryable ?? [],
  };
}

function toResources(options: Partial<ResourceSpec>): ResourceSpec {
  return {
    cpu: options.cpu ?? DEFAULT_RESOURCES.cpu,
    memoryMb: options.memoryMb ?? DEFAULT_RESOURCES.memoryMb,
    gpu: options.gpu ?? DEFAULT_RESOURCES.gpu,
    custom: { ...options.custom },
  };
}

function toSchedule(schedule: NonNullable<DagOptions['schedule']>): ScheduleSpec {
  if (typeof schedule === 'object' && 'every' in schedule) return { kind: 'every', everyMs: toMs(schedule.every) };
  return parseSchedule(schedule);
}
