// Structural validation of a normalized DagSpec, shared by the YAML loader and the TypeScript DSL.
// Issues carry field paths in the file's vocabulary (`tasks.x.retry.delay`), never locations; a loader adds those.
import type { z } from 'zod';
import { type DagIssue, DagValidationError } from '../errors.js';
import type { OperatorRegistry } from '../operators/registry.js';
import { formatDuration } from './duration.js';
import {
  didYouMean,
  idProblem,
  type PathIssue,
  type PathSegment,
  toDagIssue,
  zodIssuesToPathIssues,
} from './issues.js';
import { type DagSpec, type ParamSpec, type TaskSpec, TRIGGER_RULES } from './model.js';
import { scheduleSpecIssues } from './schedule.js';

/** Options of validateDag and the loaders. */
export interface ValidateOptions {
  /** When given, an unknown operator and `with` arguments its schema rejects are errors. */
  operators?: OperatorRegistry;
}

/** The operator name of a task whose body is a TypeScript function rather than a registered operator. */
const FUNCTION_OPERATOR = 'function';
const MAX_RETRY_DELAY_MS = 86_400_000;
/** Beyond this many unknown upstreams, stop computing "did you mean" (it costs a pass over every id). */
const MAX_SUGGESTIONS = 100;
const MAX_CYCLES_REPORTED = 20;
const MAX_CYCLE_NAMES = 20;

/** Every problem found in `dag`, with field paths and no locations. An empty list means valid. */
export function validateDag(dag: DagSpec, options: ValidateOptions = {}): DagIssue[] {
  return collectDagIssues(dag, options).map(toDagIssue);
}

/** Throws a DagValidationError listing every problem in `dag`; returns when it is valid. */
export function assertValidDag(dag: DagSpec, options: ValidateOptions = {}): void {
  const issues = validateDag(dag, options);
  if (issues.length > 0) throw new DagValidationError(issues);
}

/** validateDag with paths kept as segments, for a loader that maps them to source locations. */
export function collectDagIssues(dag: DagSpec, options: ValidateOptions = {}): PathIssue[] {
  const issues: PathIssue[] = [];
  const idIssue = idProblem(dag.id);
  if (idIssue) issues.push({ code: 'INVALID_ID', message: idIssue, path: ['id'] });
  for (const field of ['maxActiveRuns', 'maxActiveTasks'] as const) {
    const value = dag[field];
    if (!Number.isInteger(value) || value < 1) {
      issues.push({ code: 'INVALID_VALUE', message: `expected a whole number ≥ 1, got ${value}`, path: [field] });
    }
  }
  for (const field of ['startDateMs', 'endDateMs'] as const) {
    const value = dag[field];
    if (value !== undefined && !Number.isFinite(value)) {
      issues.push({ code: 'INVALID_VALUE', message: `not a date: ${value}`, path: [field.replace('Ms', '')] });
    }
  }
  if (dag.startDateMs !== undefined && dag.endDateMs !== undefined && dag.endDateMs < dag.startDateMs) {
    issues.push({ code: 'INVALID_VALUE', message: 'endDate is before startDate', path: ['endDate'] });
  }
  if (dag.schedule) issues.push(...scheduleSpecIssues(dag.schedule));
  for (const [name, param] of Object.entries(dag.params)) issues.push(...paramIssues(name, param));
  if (dag.tasks.length === 0) {
    issues.push({ code: 'MISSING_FIELD', message: 'a DAG needs at least one task', path: ['tasks'] });
  }

  const seen = new Set<string>();
  for (const task of dag.tasks) {
    const taskPath: PathSegment[] = ['tasks', task.id];
    const taskIdIssue = idProblem(task.id);
    if (taskIdIssue) issues.push({ code: 'INVALID_ID', message: taskIdIssue, path: taskPath, at: 'key' });
    if (seen.has(task.id)) {
      issues.push({
        code: 'DUPLICATE_TASK_ID',
        message: `task id '${task.id}' is used twice; task ids are unique within a DAG`,
        path: taskPath,
        at: 'key',
      });
    }
    seen.add(task.id);
    issues.push(...taskSettingIssues(task, taskPath));
    issues.push(...operatorIssues(task, taskPath, options.operators));
  }
  issues.push(...taskGraphIssues(dag.tasks.map(graphTaskOf)));
  return issues;
}

function graphTaskOf(task: TaskSpec): GraphTask {
  const mapSources: Array<[string, string]> = [];
  for (const [name, source] of Object.entries(task.map?.over ?? {})) {
    if ('fromTask' in source) mapSources.push([name, source.fromTask]);
  }
  return { id: task.id, upstream: task.upstream, mapSources };
}

const isAmount = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;

function taskSettingIssues(task: TaskSpec, path: PathSegment[]): PathIssue[] {
  const issues: PathIssue[] = [];
  const at = (...rest: PathSegment[]): PathSegment[] => [...path, ...rest];
  if (typeof task.operator !== 'string' || task.operator === '') {
    issues.push({ code: 'MISSING_FIELD', message: 'a task needs an operator', path: at('operator') });
  }
  if (!(TRIGGER_RULES as readonly string[]).includes(task.triggerRule)) {
    issues.push({
      code: 'BAD_TRIGGER_RULE',
      message: `unknown trigger rule '${task.triggerRule}'${didYouMean(task.triggerRule, TRIGGER_RULES)} (one of ${TRIGGER_RULES.join(', ')})`,
      path: at('triggerRule'),
    });
  }
  const { retry } = task;
  if (!Number.isInteger(retry.retries) || retry.retries < 0) {
    issues.push({
      code: 'INVALID_VALUE',
      message: `expected a whole number ≥ 0, got ${retry.retries}`,
      path: at('retry', 'retries'),
    });
  }
  if (!isAmount(retry.delayMs)) {
    issues.push({
      code: 'BAD_DURATION',
      message: `a delay is at least 0s, got ${retry.delayMs}ms`,
      path: at('retry', 'delay'),
    });
  }
  if (!isAmount(retry.maxDelayMs) || retry.maxDelayMs > MAX_RETRY_DELAY_MS) {
    issues.push({
      code: 'BAD_DURATION',
      message: `maxDelay is between 0s and 24h, got ${formatDuration(retry.maxDelayMs)}`,
      path: at('retry', 'maxDelay'),
    });
  }
  if (retry.backoff !== 'fixed' && retry.backoff !== 'exponential') {
    issues.push({
      code: 'INVALID_VALUE',
      message: `expected fixed or exponential, got ${String(retry.backoff)}`,
      path: at('retry', 'backoff'),
    });
  }
  if (task.timeoutMs !== undefined && (!Number.isFinite(task.timeoutMs) || task.timeoutMs <= 0)) {
    issues.push({
      code: 'BAD_DURATION',
      message: `timeout must be longer than 0s, got ${task.timeoutMs}ms`,
      path: at('timeout'),
    });
  }
  const { resources } = task;
  const amounts: Array<[string, unknown]> = [
    ['cpu', resources.cpu],
    ['memoryMb', resources.memoryMb],
    ['gpu', resources.gpu],
    ...Object.entries(resources.custom),
  ];
  for (const [name, value] of amounts) {
    if (!isAmount(value)) {
      issues.push({
        code: 'BAD_RESOURCE',
        message: `expected a number ≥ 0, got ${String(value)}`,
        path: at('resources', name),
      });
    }
  }
  if (!Number.isInteger(task.priorityWeight)) {
    issues.push({
      code: 'INVALID_VALUE',
      message: `expected a whole number, got ${task.priorityWeight}`,
      path: at('priorityWeight'),
    });
  }
  if (task.map) {
    const mapPath = at('map');
    if (task.branch) {
      issues.push({
        code: 'BAD_MAP',
        message: 'a mapped task cannot be a branch; branch in a task downstream of it',
        path: mapPath,
      });
    }
    const maxLength = task.map.maxLength;
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      issues.push({
        code: 'BAD_MAP',
        message: `expected a whole number ≥ 1, got ${maxLength}`,
        path: [...mapPath, 'maxLength'],
      });
    }
    const sources = Object.entries(task.map.over);
    if (sources.length === 0) {
      issues.push({
        code: 'BAD_MAP',
        message: "'over' needs at least one argument → source",
        path: [...mapPath, 'over'],
      });
    }
    for (const [name, source] of sources) {
      if ('values' in source && source.values.length > maxLength) {
        issues.push({
          code: 'BAD_MAP',
          message: `the literal list has ${source.values.length} elements, more than maxLength ${maxLength}`,
          path: [...mapPath, 'over', name],
        });
      }
    }
  }
  return issues;
}

function operatorIssues(task: TaskSpec, path: PathSegment[], operators: OperatorRegistry | undefined): PathIssue[] {
  if (operators === undefined || task.operator === FUNCTION_OPERATOR || typeof task.operator !== 'string') return [];
  if (task.operator === '') return [];
  const definition = operators.get(task.operator);
  if (definition === undefined) {
    const names = operators.names();
    const suggestion = didYouMean(task.operator, names);
    return [
      {
        code: 'UNKNOWN_OPERATOR',
        message: `unknown operator '${task.operator}'${suggestion}${suggestion === '' ? ` (registered: ${names.join(', ') || 'none'})` : ''}`,
        path: [...path, 'operator'],
      },
    ];
  }
  const args = definition.args as z.ZodType | undefined;
  if (args === undefined) return [];
  const result = args.safeParse(task.with, { reportInput: true });
  if (result.success) return [];
  return zodIssuesToPathIssues(result.error.issues, args, {
    prefix: [...path, 'with'],
    code: 'INVALID_OPERATOR_ARGS',
  }).map((issue) => ({ ...issue, message: `operator '${task.operator}': ${issue.message}` }));
}

const PARAM_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'];

function matchesType(value: unknown, type: ParamSpec['type']): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

function paramIssues(name: string, param: ParamSpec): PathIssue[] {
  const path: PathSegment[] = ['params', name];
  const issues: PathIssue[] = [];
  const nameIssue = idProblem(name);
  if (nameIssue) issues.push({ code: 'INVALID_ID', message: nameIssue, path, at: 'key' });
  if (!PARAM_TYPES.includes(param.type)) {
    issues.push({
      code: 'INVALID_VALUE',
      message: `expected one of ${PARAM_TYPES.join(', ')}`,
      path: [...path, 'type'],
    });
    return issues;
  }
  const numeric = param.type === 'number' || param.type === 'integer';
  if ((param.minimum !== undefined || param.maximum !== undefined) && !numeric) {
    const field = param.minimum !== undefined ? 'minimum' : 'maximum';
    issues.push({
      code: 'INVALID_VALUE',
      message: `${field} applies to number and integer params only`,
      path: [...path, field],
    });
  }
  if (param.minimum !== undefined && param.maximum !== undefined && param.minimum > param.maximum) {
    issues.push({
      code: 'INVALID_VALUE',
      message: `minimum ${param.minimum} is above maximum ${param.maximum}`,
      path: [...path, 'maximum'],
    });
  }
  if (param.enum !== undefined) {
    param.enum.forEach((option, index) => {
      if (!matchesType(option, param.type)) {
        issues.push({
          code: 'INVALID_VALUE',
          message: `enum value ${JSON.stringify(option)} is not of type ${param.type}`,
          path: [...path, 'enum', index],
        });
      }
    });
  }
  if (param.default !== undefined) {
    const value = param.default;
    const defaultPath = [...path, 'default'];
    if (!matchesType(value, param.type)) {
      issues.push({
        code: 'INVALID_VALUE',
        message: `default ${JSON.stringify(value)} is not of type ${param.type}`,
        path: defaultPath,
      });
    } else if (
      param.enum !== undefined &&
      !param.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))
    ) {
      issues.push({
        code: 'INVALID_VALUE',
        message: `default ${JSON.stringify(value)} is not one of the enum values`,
        path: defaultPath,
      });
    } else if (typeof value === 'number') {
      if (param.minimum !== undefined && value < param.minimum) {
        issues.push({
          code: 'INVALID_VALUE',
          message: `default ${value} is below minimum ${param.minimum}`,
          path: defaultPath,
        });
      }
      if (param.maximum !== undefined && value > param.maximum) {
        issues.push({
          code: 'INVALID_VALUE',
          message: `default ${value} is above maximum ${param.maximum}`,
          path: defaultPath,
        });
      }
    }
  }
  return issues;
}

/** The part of a task the graph checks read. */
export interface GraphTask {
  id: string;
  upstream: readonly string[];
  /** Mapped arguments that take their list from a task: [argument name, task id]. */
  mapSources?: ReadonlyArray<readonly [string, string]>;
}

/**
 * Unknown upstreams, self-dependencies, repeated upstreams, map sources that are not upstreams, and cycles.
 * Iterative throughout, so a chain of 100,000 tasks cannot overflow the stack.
 */
export function taskGraphIssues(tasks: readonly GraphTask[]): PathIssue[] {
  const issues: PathIssue[] = [];
  const indexOf = new Map<string, number>();
  tasks.forEach((task, index) => {
    if (!indexOf.has(task.id)) indexOf.set(task.id, index);
  });
  const ids = [...indexOf.keys()];
  const adjacency: number[][] = tasks.map(() => []);
  let suggestions = 0;

  tasks.forEach((task, index) => {
    if (indexOf.get(task.id) !== index) return;
    const listed = new Set<string>();
    task.upstream.forEach((upstream, position) => {
      const path: PathSegment[] = ['tasks', task.id, 'upstream', position];
      if (upstream === task.id) {
        issues.push({ code: 'SELF_DEPENDENCY', message: `task '${task.id}' lists itself as an upstream`, path });
      } else if (listed.has(upstream)) {
        issues.push({ code: 'INVALID_VALUE', message: `upstream '${upstream}' is listed twice`, path });
      } else {
        const target = indexOf.get(upstream);
        if (target === undefined) {
          const hint = suggestions++ < MAX_SUGGESTIONS ? didYouMean(upstream, ids) : '';
          const known = ids.length <= 10 ? ` (tasks: ${ids.join(', ')})` : '';
          issues.push({
            code: 'UNKNOWN_UPSTREAM',
            message: `unknown upstream '${upstream}'${hint}${hint === '' ? `; no task has this id${known}` : ''}`,
            path,
          });
        } else {
          adjacency[index]?.push(target);
        }
      }
      listed.add(upstream);
    });
    for (const [argument, source] of task.mapSources ?? []) {
      if (listed.has(source) && source !== task.id) continue;
      const what = indexOf.has(source)
        ? `'${source}', which is not an upstream of '${task.id}'`
        : `'${source}', which is not a task`;
      issues.push({
        code: 'BAD_MAP',
        message: `maps '${argument}' over ${what}; add it to upstream (or write a literal list)`,
        path: ['tasks', task.id, 'map', 'over', argument],
      });
    }
  });

  issues.push(...cycleIssues(tasks, adjacency));
  return issues;
}

/** Depth-first search with an explicit stack; each back edge closes a cycle, reported once per set of tasks. */
function cycleIssues(tasks: readonly GraphTask[], adjacency: readonly number[][]): PathIssue[] {
  const issues: PathIssue[] = [];
  const count = tasks.length;
  const state = new Uint8Array(count); // 0 unvisited, 1 on the stack, 2 done
  const stackPosition = new Int32Array(count);
  const inReportedCycle = new Uint8Array(count);
  const nodeStack: number[] = [];
  const edgeStack: number[] = [];

  for (let root = 0; root < count && issues.length < MAX_CYCLES_REPORTED; root++) {
    if (state[root] !== 0) continue;
    state[root] = 1;
    stackPosition[root] = 0;
    nodeStack.push(root);
    edgeStack.push(0);
    while (nodeStack.length > 0) {
      const top = nodeStack.length - 1;
      const node = nodeStack[top]!;
      const edges = adjacency[node] ?? [];
      const edge = edgeStack[top]!;
      if (edge >= edges.length) {
        state[node] = 2;
        nodeStack.pop();
        edgeStack.pop();
        continue;
      }
      edgeStack[top] = edge + 1;
      const next = edges[edge]!;
      if (state[next] === 0) {
        state[next] = 1;
        stackPosition[next] = nodeStack.length;
        nodeStack.push(next);
        edgeStack.push(0);
      } else if (state[next] === 1 && issues.length < MAX_CYCLES_REPORTED) {
        // nodeStack[i] has nodeStack[i + 1] as an upstream, and `node` has `next`: walking the stack
        // backwards from `node` gives the run order next → node → … → next.
        const members = nodeStack.slice(stackPosition[next]);
        if (members.some((member) => inReportedCycle[member] === 1)) continue;
        for (const member of members) inReportedCycle[member] = 1;
        issues.push(cycleIssue(tasks, [members[0]!, ...members.slice(1).reverse()]));
      }
    }
  }
  return issues;
}

/** `order` lists the cycle in run order (each runs before the next, the last before the first). */
function cycleIssue(tasks: readonly GraphTask[], order: number[]): PathIssue {
  // Start at the task declared first, so the report does not depend on where the search entered the cycle.
  let start = 0;
  for (let index = 1; index < order.length; index++) if (order[index]! < order[start]!) start = index;
  const rotated = [...order.slice(start), ...order.slice(0, start)];
  const first = tasks[rotated[0]!]!;
  const last = tasks[rotated.at(-1)!]!;
  const names = [...rotated, rotated[0]!].map((index) => tasks[index]!.id);
  // A cycle through thousands of tasks is shown by its ends; the field path still names the link to cut.
  if (names.length > MAX_CYCLE_NAMES) {
    const hidden = names.length - MAX_CYCLE_NAMES;
    names.splice(MAX_CYCLE_NAMES / 2, hidden, `… ${hidden} more …`);
  }
  const position = first.upstream.indexOf(last.id);
  return {
    code: 'DAG_CYCLE',
    message: `tasks form a cycle: ${names.join(' → ')}; remove one of these upstream links`,
    path: ['tasks', first.id, 'upstream', position],
  };
}
