// Structural validation of a normalized DagSpec, shared by the YAML loader and the TypeScript DSL.
// Issues carry field paths in the file's vocabulary (`tasks.x.retry.delay`), never locations; a loader adds those.
import type { z } from 'zod';
import { type DagIssue, DagValidationError } from '../errors.js';
import type { OperatorRegistry } from '../operators/registry.js';
import { formatDuration } from './duration.js';
import { didYouMean, idProblem, type PathIssue, type PathSegment, toDagIssue } from './issues.js';
import { type DagSpec, type ParamSpec, type TaskSpec, TRIGGER_RULES } from './model.js';
import { scheduleSpecIssues } from './schedule.js';
import { MAX_RETRY_DELAY_MS } from './schema.js';
import { type GraphTask, taskGraphIssues } from './task-graph.js';
import { zodIssuesToPathIssues } from './zod-issues.js';

/** Options of validateDag and the loaders. */
export interface ValidateOptions {
  /** When given, an unknown operator and `with` arguments its schema rejects are errors. */
  operators?: OperatorRegistry;
}

/** The operator name of a task whose body is a TypeScript function rather than a registered operator. */
const FUNCTION_OPERATOR = 'function';

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
  // Event names share the id charset: `batuta events publish` checks a name by the same rule.
  if (dag.schedule?.kind === 'events') {
    for (const [index, name] of dag.schedule.events.entries()) {
      const problem = idProblem(name);
      if (problem) issues.push({ code: 'INVALID_ID', message: problem, path: ['schedule', 'events', index] });
    }
  }
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
  if (dag.schedule?.kind === 'once' && dag.startDateMs === undefined) {
    // Every scheduler must agree on the one run's date (its id derives from it); "now" differs per process.
    issues.push({
      code: 'MISSING_FIELD',
      message: "'@once' runs once, at its startDate; set one, e.g. startDate: '2026-12-01T06:00:00Z'",
      path: ['startDate'],
    });
  }
  // A zod params schema checks itself; the specs derived from it only describe it.
  for (const [name, param] of Object.entries(dag.params)) {
    issues.push(
      ...(dag.paramsSchema
        ? paramIssues(name, param).filter((i) => i.code === 'INVALID_ID')
        : paramIssues(name, param)),
    );
  }
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
