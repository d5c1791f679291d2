// A parsed DAG document → the normalized DagSpec. Pure conversion: the document has passed the schema,
// so every duration, date and schedule here is known to parse.
import { parseDateTime } from './date-time.js';
import { parseDuration } from './duration.js';
import {
  type DagSpec,
  DEFAULT_MAX_MAP_LENGTH,
  DEFAULT_RESOURCES,
  DEFAULT_RETRY,
  type MapSource,
  type MapSpec,
  type ParamSpec,
  type ResourceSpec,
  type RetryPolicy,
  type TaskSpec,
} from './model.js';
import { parseSchedule } from './schedule.js';
import {
  type DagDocument,
  type MapDocument,
  type ParamDocument,
  parseMemoryMb,
  type ResourcesDocument,
  type RetryDocument,
  type TaskDocument,
} from './schema.js';

export interface NormalizeOptions {
  /** Recorded as `DagSpec.sourceFile`. */
  sourceFile?: string;
  /** Task ids in file order; a JS object puts integer-like keys ("1", "2") first, a file does not. */
  taskOrder?: readonly string[];
}

function retryFields(retry: RetryDocument | undefined): Partial<RetryPolicy> {
  if (retry === undefined) return {};
  const out: Partial<RetryPolicy> = {};
  if (retry.retries !== undefined) out.retries = retry.retries;
  if (retry.delay !== undefined) out.delayMs = parseDuration(retry.delay);
  if (retry.backoff !== undefined) out.backoff = retry.backoff;
  if (retry.maxDelay !== undefined) out.maxDelayMs = parseDuration(retry.maxDelay);
  if (retry.jitter !== undefined) out.jitter = retry.jitter;
  if (retry.nonRetryable !== undefined) out.nonRetryable = [...retry.nonRetryable];
  return out;
}

function resourceFields(resources: ResourcesDocument | undefined): Partial<ResourceSpec> {
  if (resources === undefined) return {};
  const out: Partial<ResourceSpec> = {};
  const custom: Array<[string, number]> = [];
  for (const [key, value] of Object.entries(resources)) {
    if (value === undefined) continue;
    if (key === 'cpu') out.cpu = value as number;
    else if (key === 'gpu') out.gpu = value as number;
    else if (key === 'memoryMb') out.memoryMb = parseMemoryMb(value) ?? 0;
    else custom.push([key, value as number]);
  }
  // fromEntries defines own properties, so a counter named `__proto__` stays a counter.
  if (custom.length > 0) out.custom = Object.fromEntries(custom);
  return out;
}

function mergeResources(...layers: Array<Partial<ResourceSpec>>): ResourceSpec {
  const merged: ResourceSpec = { ...DEFAULT_RESOURCES, custom: { ...DEFAULT_RESOURCES.custom } };
  for (const layer of layers) {
    const { custom, ...rest } = layer;
    Object.assign(merged, rest);
    if (custom) merged.custom = Object.fromEntries([...Object.entries(merged.custom), ...Object.entries(custom)]);
  }
  return merged;
}

function normalizeMap(map: MapDocument): MapSpec {
  const over = Object.fromEntries(
    Object.entries(map.over).map(([name, source]): [string, MapSource] => [
      name,
      typeof source === 'string' ? { fromTask: source } : { values: structuredClone(source) },
    ]),
  );
  return { over, maxLength: map.maxLength ?? DEFAULT_MAX_MAP_LENGTH };
}

function normalizeParam(param: ParamDocument): ParamSpec {
  const spec: ParamSpec = { type: param.type };
  if (param.default !== undefined) spec.default = structuredClone(param.default);
  if (param.description !== undefined) spec.description = param.description;
  if (param.enum !== undefined) spec.enum = structuredClone(param.enum);
  if (param.minimum !== undefined) spec.minimum = param.minimum;
  if (param.maximum !== undefined) spec.maximum = param.maximum;
  if (param.required !== undefined) spec.required = param.required;
  return spec;
}

function orderedTaskIds(tasks: Record<string, TaskDocument>, order: readonly string[] | undefined): string[] {
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const id of [...(order ?? []), ...Object.keys(tasks)]) {
    if (!seen.has(id) && Object.hasOwn(tasks, id)) ids.push(id);
    seen.add(id);
  }
  return ids;
}

/** Turns a parsed DAG document into a DagSpec: task value ?? DAG defaults ?? model defaults, durations in ms. */
export function normalizeDagDocument(document: DagDocument, options: NormalizeOptions = {}): DagSpec {
  const defaults = document.defaults ?? {};
  const defaultRetry = retryFields(defaults.retry);
  const defaultResources = resourceFields(defaults.resources);
  const defaultTimeoutMs = defaults.timeout === undefined ? undefined : parseDuration(defaults.timeout);

  const tasks = orderedTaskIds(document.tasks, options.taskOrder).map((id): TaskSpec => {
    const task = document.tasks[id] as TaskDocument;
    const upstream =
      task.upstream === undefined ? [] : typeof task.upstream === 'string' ? [task.upstream] : [...task.upstream];
    const spec: TaskSpec = {
      id,
      operator: task.operator,
      with: structuredClone(task.with ?? {}),
      upstream,
      triggerRule: task.triggerRule ?? defaults.triggerRule ?? 'all_success',
      retry: {
        ...DEFAULT_RETRY,
        nonRetryable: [...DEFAULT_RETRY.nonRetryable],
        ...defaultRetry,
        ...retryFields(task.retry),
      },
      resources: mergeResources(defaultResources, resourceFields(task.resources)),
      priorityWeight: task.priorityWeight ?? defaults.priorityWeight ?? 1,
      dependsOnPast: task.dependsOnPast ?? false,
      branch: task.branch ?? false,
      outlets: [...(task.outlets ?? [])],
    };
    const timeoutMs = task.timeout === undefined ? defaultTimeoutMs : parseDuration(task.timeout);
    if (timeoutMs !== undefined) spec.timeoutMs = timeoutMs;
    const pool = task.pool ?? defaults.pool;
    if (pool !== undefined) spec.pool = pool;
    if (task.shortCircuit === true) spec.shortCircuit = 'all';
    else if (task.shortCircuit === 'all' || task.shortCircuit === 'direct') spec.shortCircuit = task.shortCircuit;
    if (task.map !== undefined) spec.map = normalizeMap(task.map);
    if (task.doc !== undefined) spec.doc = task.doc;
    return spec;
  });

  const dag: DagSpec = {
    id: document.id,
    tags: [...(document.tags ?? [])],
    catchup: document.catchup,
    maxActiveRuns: document.maxActiveRuns,
    maxActiveTasks: document.maxActiveTasks,
    params: Object.fromEntries(
      Object.entries(document.params ?? {}).map(([name, param]) => [name, normalizeParam(param)]),
    ),
    tasks,
  };
  if (document.description !== undefined) dag.description = document.description;
  if (document.owner !== undefined) dag.owner = document.owner;
  if (document.access !== undefined) {
    dag.access = {
      ...(document.access.view ? { view: [...document.access.view] } : {}),
      ...(document.access.operate ? { operate: [...document.access.operate] } : {}),
    };
  }
  if (document.pausedOnCreation !== undefined) dag.pausedOnCreation = document.pausedOnCreation;
  const schedule = parseSchedule(document.schedule);
  if (schedule !== undefined) dag.schedule = schedule;
  const startDateMs = document.startDate === undefined ? undefined : parseDateTime(document.startDate);
  if (startDateMs !== undefined) dag.startDateMs = startDateMs;
  const endDateMs = document.endDate === undefined ? undefined : parseDateTime(document.endDate);
  if (endDateMs !== undefined) dag.endDateMs = endDateMs;
  if (options.sourceFile !== undefined) dag.sourceFile = options.sourceFile;
  return dag;
}
