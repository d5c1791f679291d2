// The TypeScript DSL: `defineDag({...})`, then `dag.task(id, {...})`. Upstreams are passed as task
// references, so a typo in an upstream is a compile error, and each task's `inputs` are typed from
// its upstreams' outputs. A zod `params` schema types `params` in every task; a branch names the
// downstreams it may follow, so its return value and its downstreams are checked at compile time.
import { z } from 'zod';
import { DagValidationError } from '../errors.js';
import { parseDuration } from './duration.js';
import {
  type DagAccess,
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
  type ParamsSchema,
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

/** A handle on a branch task: it also carries the ids of the downstreams the branch may follow. */
export interface BranchRef<Id extends string = string, Target extends string = string>
  extends TaskRef<Id, Target | Target[] | null> {
  /** The declared targets (every direct downstream of the branch, and nothing else). */
  readonly targets: readonly Target[] | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: a reference of any output type, used only in constraints
type AnyRef = TaskRef<string, any>;

/** The ids of the branches among `Upstream` that do not list `Id` as a target. */
type BranchesRefusing<Id extends string, Upstream extends readonly AnyRef[]> = {
  [K in keyof Upstream]: Upstream[K] extends BranchRef<infer Branch, infer Target>
    ? Id extends Target
      ? never
      : Branch
    : never;
}[number];

/**
 * Nothing when every branch upstream lists the task among its targets; otherwise a property the options
 * lack, so the call is a compile error whose message names the branch.
 */
export type BranchTargetCheck<Id extends string, Upstream extends readonly AnyRef[]> = [
  BranchesRefusing<Id, Upstream>,
] extends [never]
  ? unknown
  : { notATargetOfBranch: `'${Id}' is not in the targets of branch '${BranchesRefusing<Id, Upstream>}'` };

/** The outputs of a DAG's tasks keyed by task id, typed from the refs a `defineDag` builder returned. */
export type OutputsOf<Refs extends readonly AnyRef[]> = {
  [R in Refs[number] as R['id']]: R extends TaskRef<string, infer O> ? O : never;
};

/** The type of `params` in a DAG's tasks: the zod schema's output, else plain JSON values by name. */
export type ParamsOf<Schema> = Schema extends ParamsSchema<infer Output> ? Output : Record<string, unknown>;

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
  /** Who may see and operate the DAG in the web API: roles or `user:NAME`; absent: everyone, by role. */
  access?: DagAccess;
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
  /** A zod schema (`z.object({...})`, which types `params` in every task) or JSON-Schema-like param specs. */
  params?: Record<string, ParamSpec> | ParamsSchema;
  defaults?: Omit<TaskOptions<[]>, 'upstream' | 'callbacks' | 'outlets' | 'doc' | 'dependsOnPast'> & {
    dependsOnPast?: boolean;
  };
  callbacks?: DagCallbacks;
}

type Body<Inputs, Item, Output, Params> = (context: TaskContext<Inputs, Item, Params>) => Output | Promise<Output>;

/**
 * A DAG under construction; `spec` is the validated normalized model. `Params` types `params` in its tasks;
 * `Outputs` (from a `defineDag` builder) types the outputs `runDag` returns.
 */
export class Dag<Params = Record<string, unknown>, Outputs = Record<string, unknown>> {
  private readonly options: DagOptions;
  private readonly tasks: TaskSpec[] = [];
  private readonly branchTargets = new Map<string, readonly string[]>();
  private validated: DagSpec | undefined;
  /** Phantom: never set at run time; carries the types of the task outputs. */
  declare readonly outputs?: Outputs;

  constructor(options: DagOptions) {
    this.options = options;
  }

  get id(): string {
    return this.options.id;
  }

  /** A task whose body is a TypeScript function; its output type flows to its downstreams. */
  task<const Id extends string, const Upstream extends readonly AnyRef[] = [], Output = void>(
    id: Id,
    options: TaskOptions<Upstream> & { run: Body<InputsOf<Upstream>, undefined, Output, Params> } & BranchTargetCheck<
        Id,
        Upstream
      >,
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
    } & BranchTargetCheck<Id, Upstream>,
  ): TaskRef<Id, Output> {
    return this.add(id, options, {
      operator: options.operator,
      with: options.with ?? {},
      ...(options.over ? { map: toMapSpec(options.over, options.maxLength) } : {}),
    });
  }

  /**
   * A branch: returns the id(s) of the direct downstreams to follow; the others are skipped. With `targets`
   * (every direct downstream's id), returning another id, or a downstream not in the list, is a compile
   * error, and a target that is not a direct downstream fails validation.
   */
  branch<const Id extends string, const Target extends string = string, const Upstream extends readonly AnyRef[] = []>(
    id: Id,
    options: TaskOptions<Upstream> & {
      targets?: readonly Target[];
      run: Body<InputsOf<Upstream>, undefined, NoInfer<Target> | readonly NoInfer<Target>[] | null | undefined, Params>;
    } & BranchTargetCheck<Id, Upstream>,
  ): BranchRef<Id, Target> {
    const ref = this.add<Id, Target | Target[] | null>(id, options, {
      operator: 'function',
      fn: options.run as TaskFunction,
      branch: true,
    });
    if (options.targets) this.branchTargets.set(id, [...options.targets]);
    return { ...ref, targets: options.targets };
  }

  /** A short-circuit: a falsy result skips every descendant (or only direct ones with `mode: 'direct'`). */
  shortCircuit<const Id extends string, const Upstream extends readonly AnyRef[] = [], Output = boolean>(
    id: Id,
    options: TaskOptions<Upstream> & {
      mode?: 'all' | 'direct';
      run: Body<InputsOf<Upstream>, undefined, Output, Params>;
    } & BranchTargetCheck<Id, Upstream>,
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
      run: Body<InputsOf<Upstream>, { [K in keyof Over]: ElementOf<Over[K]> }, Output, Params>;
    } & BranchTargetCheck<Id, Upstream>,
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
      this.checkBranchTargets(spec);
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

  /** Each branch's declared targets are exactly its direct downstreams (the types check the other half). */
  private checkBranchTargets(spec: DagSpec): void {
    const issues = [...this.branchTargets].flatMap(([branchId, targets]) => {
      const downstream = new Set(spec.tasks.filter((t) => t.upstream.includes(branchId)).map((t) => t.id));
      const strays = targets.filter((target) => !downstream.has(target));
      const unlisted = [...downstream].filter((id) => !targets.includes(id));
      if (strays.length === 0 && unlisted.length === 0) return [];
      const problems = [
        ...(strays.length > 0 ? [`${strays.map((t) => `'${t}'`).join(', ')} not a direct downstream`] : []),
        ...(unlisted.length > 0 ? [`downstream ${unlisted.map((t) => `'${t}'`).join(', ')} not listed`] : []),
      ];
      return [
        {
          code: 'INVALID_VALUE' as const,
          message: `branch '${branchId}' targets must be its direct downstreams: ${problems.join('; ')}`,
          field: `tasks.${branchId}.targets`,
        },
      ];
    });
    if (issues.length > 0) throw new DagValidationError(issues);
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
      ...paramsOf(o.params),
      tasks: [...this.tasks],
      ...(o.description === undefined ? {} : { description: o.description }),
      ...(o.owner === undefined ? {} : { owner: o.owner }),
      ...(o.access === undefined ? {} : { access: structuredClone(o.access) }),
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

/**
 * Starts a DAG definition in TypeScript. With a builder, the DAG's tasks are defined inside it and the refs
 * it returns type the outputs `runDag` gives back (mapped tasks as arrays).
 */
export function defineDag<const Options extends DagOptions>(options: Options): Dag<ParamsOf<Options['params']>>;
export function defineDag<const Options extends DagOptions, const Refs extends readonly AnyRef[]>(
  options: Options,
  build: (dag: Dag<ParamsOf<Options['params']>>) => Refs,
): Dag<ParamsOf<Options['params']>, OutputsOf<Refs>>;
export function defineDag(options: DagOptions, build?: (dag: Dag) => readonly AnyRef[]): Dag {
  const dag = new Dag(options);
  build?.(dag);
  return dag;
}

function isParamsSchema(params: DagOptions['params']): params is ParamsSchema {
  return params instanceof z.ZodType;
}

/** The model's params: specs as given, or specs describing a zod schema (which then does the checking). */
function paramsOf(params: DagOptions['params']): Pick<DagSpec, 'params' | 'paramsSchema'> {
  if (!isParamsSchema(params)) return { params: params ?? {} };
  const json = z.toJSONSchema(params, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  const specs: Record<string, ParamSpec> = {};
  for (const [name, property] of Object.entries(json.properties ?? {})) {
    specs[name] = {
      type: PARAM_TYPES.find((type) => type === property.type) ?? 'object',
      ...(property.default === undefined ? {} : { default: property.default }),
      ...(typeof property.description === 'string' ? { description: property.description } : {}),
      ...(Array.isArray(property.enum) ? { enum: property.enum } : {}),
      ...(typeof property.minimum === 'number' ? { minimum: property.minimum } : {}),
      ...(typeof property.maximum === 'number' ? { maximum: property.maximum } : {}),
      ...(json.required?.includes(name) ? { required: true } : {}),
    };
  }
  return { params: specs, paramsSchema: params };
}

const PARAM_TYPES: readonly ParamSpec['type'][] = ['string', 'number', 'integer', 'boolean', 'array', 'object'];

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
