import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type DagSpec, DEFAULT_RESOURCES, DEFAULT_RETRY, type TaskSpec } from '../../src/dag/model.js';
import { assertValidDag, validateDag } from '../../src/dag/validate.js';
import { DagValidationError } from '../../src/errors.js';
import { OperatorRegistry } from '../../src/operators/registry.js';
import { testOperators } from './operators.js';

type TaskInput = Partial<TaskSpec> & { id: string };

function taskSpec(input: TaskInput): TaskSpec {
  return {
    operator: 'empty',
    with: {},
    upstream: [],
    triggerRule: 'all_success',
    retry: { ...DEFAULT_RETRY },
    resources: { ...DEFAULT_RESOURCES, custom: {} },
    priorityWeight: 1,
    dependsOnPast: false,
    branch: false,
    outlets: [],
    ...input,
  };
}

function dagSpec(tasks: TaskInput[], overrides: Partial<DagSpec> = {}): DagSpec {
  return {
    id: 'hand_built',
    tags: [],
    catchup: false,
    maxActiveRuns: 16,
    maxActiveTasks: 16,
    params: {},
    tasks: tasks.map(taskSpec),
    ...overrides,
  };
}

const summary = (dag: DagSpec, options = {}) =>
  validateDag(dag, options).map((issue) => `${issue.code} ${issue.field}: ${issue.message}`);

/** A chain t0 ← t1 ← … ← t(n-1): each task has the previous one as its upstream. */
function chain(length: number): TaskInput[] {
  return Array.from({ length }, (_, index) => ({ id: `t${index}`, upstream: index === 0 ? [] : [`t${index - 1}`] }));
}

/** Upstream-list element reads per edge a linear validation may make (today: 1, the graph walk's). */
const EDGE_READS_PER_EDGE = 2;

/** Validates `dag` with every task's upstream list wrapped to count element reads: the edges validation visits. */
function edgeReadsOf(dag: DagSpec): { issues: ReturnType<typeof validateDag>; reads: number } {
  let reads = 0;
  const counted = {
    ...dag,
    tasks: dag.tasks.map((task) => ({
      ...task,
      upstream: new Proxy(task.upstream, {
        get(target, property, receiver) {
          if (typeof property === 'string' && property !== 'length' && /^[0-9]+$/.test(property)) reads++;
          return Reflect.get(target, property, receiver);
        },
      }),
    })),
  };
  const issues = validateDag(counted);
  return { issues, reads };
}

describe('validateDag', () => {
  it('accepts a well-formed DAG', () => {
    const dag = dagSpec(
      [{ id: 'extract' }, { id: 'transform', upstream: ['extract'] }, { id: 'load', upstream: ['transform'] }],
      {
        schedule: { kind: 'cron', cron: '0 6 * * *', timezone: 'Europe/Madrid' },
      },
    );
    expect(validateDag(dag)).toEqual([]);
    expect(() => assertValidDag(dag)).not.toThrow();
  });

  it.each<[string, DagSpec, string]>([
    [
      'a bad DAG id',
      dagSpec([{ id: 'a' }], { id: 'my dag' }),
      'INVALID_ID id: id "my dag" contains " " at character 3',
    ],
    ['a bad task id', dagSpec([{ id: 'a/b' }]), 'INVALID_ID tasks["a/b"]: id "a/b" contains "/" at character 2'],
    [
      'a duplicate task id',
      dagSpec([{ id: 'a' }, { id: 'a' }]),
      "DUPLICATE_TASK_ID tasks.a: task id 'a' is used twice",
    ],
    ['no tasks', dagSpec([]), 'MISSING_FIELD tasks: a DAG needs at least one task'],
    [
      'an unknown upstream',
      dagSpec([{ id: 'load_data' }, { id: 'predict', upstream: ['load_data', 'load_dta'] }]),
      "UNKNOWN_UPSTREAM tasks.predict.upstream[1]: unknown upstream 'load_dta'; did you mean 'load_data'?",
    ],
    [
      'a self-dependency',
      dagSpec([{ id: 'a', upstream: ['a'] }]),
      "SELF_DEPENDENCY tasks.a.upstream[0]: task 'a' lists itself",
    ],
    [
      'a cycle',
      dagSpec([
        { id: 'a', upstream: ['c'] },
        { id: 'b', upstream: ['a'] },
        { id: 'c', upstream: ['b'] },
      ]),
      'DAG_CYCLE tasks.a.upstream[0]: tasks form a cycle: a → b → c → a',
    ],
    [
      'maxActiveRuns 0',
      dagSpec([{ id: 'a' }], { maxActiveRuns: 0 }),
      'INVALID_VALUE maxActiveRuns: expected a whole number ≥ 1, got 0',
    ],
    [
      'maxActiveTasks 1.5',
      dagSpec([{ id: 'a' }], { maxActiveTasks: 1.5 }),
      'INVALID_VALUE maxActiveTasks: expected a whole number ≥ 1',
    ],
    [
      'a negative resource',
      dagSpec([{ id: 'a', resources: { cpu: -1, memoryMb: 1, gpu: 0, custom: {} } }]),
      'BAD_RESOURCE tasks.a.resources.cpu: expected a number ≥ 0, got -1',
    ],
    [
      'an infinite custom counter',
      dagSpec([
        { id: 'a', resources: { cpu: 1, memoryMb: 1, gpu: 0, custom: { licenses: Number.POSITIVE_INFINITY } } },
      ]),
      'BAD_RESOURCE tasks.a.resources.licenses: expected a number ≥ 0, got Infinity',
    ],
    [
      'fractional retries',
      dagSpec([{ id: 'a', retry: { ...DEFAULT_RETRY, retries: 1.5 } }]),
      'INVALID_VALUE tasks.a.retry.retries: expected a whole number ≥ 0, got 1.5',
    ],
    [
      'a retry delay cap above 24h',
      dagSpec([{ id: 'a', retry: { ...DEFAULT_RETRY, maxDelayMs: 2 * 86_400_000 } }]),
      'BAD_DURATION tasks.a.retry.maxDelay: maxDelay is between 0s and 24h, got 2d',
    ],
    [
      'a zero timeout',
      dagSpec([{ id: 'a', timeoutMs: 0 }]),
      'BAD_DURATION tasks.a.timeout: timeout must be longer than 0s',
    ],
    [
      'an unknown trigger rule',
      dagSpec([{ id: 'a', triggerRule: 'all_sucess' as TaskSpec['triggerRule'] }]),
      "BAD_TRIGGER_RULE tasks.a.triggerRule: unknown trigger rule 'all_sucess'; did you mean 'all_success'?",
    ],
    [
      'a map over a task that is not an upstream',
      dagSpec([{ id: 'list' }, { id: 'each', map: { over: { item: { fromTask: 'list' } }, maxLength: 1024 } }]),
      "BAD_MAP tasks.each.map.over.item: maps 'item' over 'list', which is not an upstream of 'each'",
    ],
    [
      'a map over a task that does not exist',
      dagSpec([{ id: 'each', map: { over: { item: { fromTask: 'ghost' } }, maxLength: 1024 } }]),
      "BAD_MAP tasks.each.map.over.item: maps 'item' over 'ghost', which is not a task",
    ],
    [
      'a branch that is also mapped',
      dagSpec([{ id: 'pick', branch: true, map: { over: { region: { values: ['eu'] } }, maxLength: 1024 } }]),
      'BAD_MAP tasks.pick.map: a mapped task cannot be a branch',
    ],
    [
      'a literal list longer than maxLength',
      dagSpec([{ id: 'each', map: { over: { n: { values: [1, 2, 3] } }, maxLength: 2 } }]),
      'BAD_MAP tasks.each.map.over.n: the literal list has 3 elements, more than maxLength 2',
    ],
    [
      'a bad cron',
      dagSpec([{ id: 'a' }], { schedule: { kind: 'cron', cron: '0 25 * * *', timezone: 'UTC' } }),
      "BAD_CRON schedule.cron: '0 25 * * *' is not a valid cron expression",
    ],
    [
      'a bad time zone',
      dagSpec([{ id: 'a' }], { schedule: { kind: 'cron', cron: '0 1 * * *', timezone: 'Europe/Madird' } }),
      "BAD_TIMEZONE schedule.timezone: unknown time zone 'Europe/Madird'; did you mean 'Europe/Madrid'?",
    ],
    [
      'an interval of zero',
      dagSpec([{ id: 'a' }], { schedule: { kind: 'every', everyMs: 0 } }),
      "BAD_DURATION schedule.every: 'every' must be longer than 0s",
    ],
    [
      'an end date before the start date',
      dagSpec([{ id: 'a' }], { startDateMs: 2_000, endDateMs: 1_000 }),
      'INVALID_VALUE endDate: endDate is before startDate',
    ],
    [
      'a param default outside its range',
      dagSpec([{ id: 'a' }], { params: { sample: { type: 'number', default: 2, minimum: 0, maximum: 1 } } }),
      'INVALID_VALUE params.sample.default: default 2 is above maximum 1',
    ],
  ])('reports %s', (_name, dag, expected) => {
    expect(summary(dag)[0]).toContain(expected);
  });

  it('checks operators against a registry, appending the zod path of bad arguments to the field', () => {
    const dag = dagSpec([
      { id: 'run', operator: 'shell', with: { command: '' } },
      { id: 'typo', operator: 'shel', with: {} },
      { id: 'inline', operator: 'function', fn: () => 1 },
    ]);
    expect(summary(dag)).toEqual([]);
    expect(summary(dag, { operators: testOperators() })).toEqual([
      'INVALID_OPERATOR_ARGS tasks.run.with.command: operator \'shell\': expected a non-empty string, got string ""',
      "UNKNOWN_OPERATOR tasks.typo.operator: unknown operator 'shel'; did you mean 'shell'?",
    ]);
  });

  it('reports nested argument problems with their full path', () => {
    const operators = new OperatorRegistry().register({
      name: 'http',
      description: 'Calls a URL.',
      args: z.strictObject({ request: z.strictObject({ url: z.url(), headers: z.array(z.string()) }) }),
      run: () => undefined,
    });
    const dag = dagSpec([
      { id: 'call', operator: 'http', with: { request: { url: 'x', headers: ['a', 2], methd: 'GET' } } },
    ]);
    expect(validateDag(dag, { operators }).map((issue) => [issue.code, issue.field])).toEqual([
      ['INVALID_OPERATOR_ARGS', 'tasks.call.with.request.url'],
      ['INVALID_OPERATOR_ARGS', 'tasks.call.with.request.headers[1]'],
      ['INVALID_OPERATOR_ARGS', 'tasks.call.with.request.methd'],
    ]);
  });

  it('reports each cycle once, starting at the task declared first', () => {
    const dag = dagSpec([
      { id: 'x', upstream: ['y'] },
      { id: 'y', upstream: ['x'] },
      { id: 'p', upstream: ['r'] },
      { id: 'q', upstream: ['p'] },
      { id: 'r', upstream: ['q'] },
    ]);
    expect(validateDag(dag).map((issue) => issue.message)).toEqual([
      'tasks form a cycle: x → y → x; remove one of these upstream links',
      'tasks form a cycle: p → q → r → p; remove one of these upstream links',
    ]);
  });

  it('accepts a chain of 100,000 tasks without overflowing the stack, reading each edge a bounded number of times', () => {
    // Work is counted, not timed: a busy machine slows a test, it does not change how often an edge is read.
    const small = edgeReadsOf(dagSpec(chain(10_000)));
    const large = edgeReadsOf(dagSpec(chain(100_000)));
    expect(large.issues).toEqual([]);
    // Reads per edge stay the same at ten times the size (linear) and small; a quadratic walk grows them tenfold.
    expect(large.reads / 99_999).toBeLessThanOrEqual(EDGE_READS_PER_EDGE);
    expect(large.reads / 99_999).toBeLessThanOrEqual(small.reads / 9_999);
  });

  it('finds the cycle closing a chain of 100,000 tasks and abbreviates it', () => {
    const tasks = chain(100_000);
    tasks[0] = { id: 't0', upstream: ['t99999'] };
    const issues = validateDag(dagSpec(tasks));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.code).toBe('DAG_CYCLE');
    expect(issues[0]?.field).toBe('tasks.t0.upstream[0]');
    expect(issues[0]?.message).toMatch(/^tasks form a cycle: t0 → t1 → .* → … 99981 more … → .* → t99999 → t0;/);
  });

  it('throws a DagValidationError carrying every issue from assertValidDag', () => {
    const dag = dagSpec([{ id: 'a', upstream: ['ghost'] }], { maxActiveRuns: 0 });
    try {
      assertValidDag(dag);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DagValidationError);
      const issues = (error as DagValidationError).issues;
      expect(issues.map((issue) => issue.code)).toEqual(['INVALID_VALUE', 'UNKNOWN_UPSTREAM']);
      expect(issues.every((issue) => issue.location === undefined)).toBe(true);
    }
  });
});
