import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDagDirectory } from '../../src/daemon/dag-folder.js';
import { DEFAULT_RESOURCES, DEFAULT_RETRY, type TaskSpec } from '../../src/dag/model.js';
import { loadDagFile, parseDagYaml } from '../../src/dag/yaml-loader.js';
import { DagValidationError } from '../../src/errors.js';
import { testOperators } from './operators.js';

const fixture = (path: string): string => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const operators = testOperators();

/** A DAG file with `body` added after the id line; tasks default to one `empty` task. */
const load = (body: string, tasks = 'tasks:\n  only:\n    operator: empty\n') =>
  parseDagYaml(`id: inline\n${body}${tasks}`, 'inline.yaml');

const task = (tasks: TaskSpec[], id: string): TaskSpec => {
  const found = tasks.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no task ${id}`);
  return found;
};

function issuesOf(run: () => unknown): DagValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof DagValidationError) return error;
    throw error;
  }
  throw new Error('expected a DagValidationError');
}

describe('loadDagFile', () => {
  it('normalizes the DESIGN.md example: defaults merged field by field, durations in ms, file order kept', async () => {
    const file = fixture('dags/iris-batch.yaml');
    const dag = await loadDagFile(file, {});
    expect(dag).toMatchObject({
      id: 'iris_batch',
      description: 'Score the iris batch and publish the predictions to Redis',
      schedule: { kind: 'cron', cron: '0 */4 * * *', timezone: 'America/Argentina/Buenos_Aires' },
      catchup: false,
      maxActiveRuns: 1,
      maxActiveTasks: 16,
      tags: [],
      params: { sample: { type: 'number', default: 1 } },
      sourceFile: file,
    });
    expect(dag.tasks.map((t) => t.id)).toEqual(['load_data', 'load_model', 'predict', 'ingest']);
    const expectedRetry = {
      ...DEFAULT_RETRY,
      retries: 3,
      delayMs: 30_000,
      backoff: 'exponential',
      maxDelayMs: 600_000,
    };
    for (const t of dag.tasks) expect(t.retry).toEqual(expectedRetry);
    expect(task(dag.tasks, 'load_data')).toEqual({
      id: 'load_data',
      operator: 'ml.loadCsv',
      with: { url: 's3://batch/data/iris.csv', header: false },
      upstream: [],
      triggerRule: 'all_success',
      retry: expectedRetry,
      resources: { cpu: 1, memoryMb: 512, gpu: 0, custom: {} },
      priorityWeight: 1,
      dependsOnPast: false,
      branch: false,
      outlets: [],
    });
    expect(task(dag.tasks, 'predict').resources).toEqual({ cpu: 2, memoryMb: 2048, gpu: 0, custom: {} });
    expect(task(dag.tasks, 'predict').upstream).toEqual(['load_data', 'load_model']);
  });

  it('resolves anchors, aliases and merge keys, and gives every task its own copy of shared arguments', async () => {
    const dag = await loadDagFile(fixture('dags/anchors.yaml'), { operators });
    const [base, copy, override, shared] = dag.tasks as [TaskSpec, TaskSpec, TaskSpec, TaskSpec];
    expect(copy).toMatchObject({
      operator: 'shell',
      with: { command: 'echo hello' },
      upstream: ['base'],
      resources: { cpu: 0.5, memoryMb: DEFAULT_RESOURCES.memoryMb, gpu: 0, custom: { licenses: 1 } },
      retry: { retries: 2, delayMs: 60_000 },
    });
    expect(override.with).toEqual({ command: 'echo override' });
    expect(override.upstream).toEqual(['copy']);
    expect(shared.with).toEqual(base.with);
    expect(shared.with).not.toBe(base.with);
  });

  it('reads a UTF-8 file that starts with a BOM', async () => {
    const dag = await loadDagFile(fixture('dags/bom.yaml'));
    expect(dag.id).toBe('with_bom');
    expect(dag.tasks.map((t) => t.id)).toEqual(['only']);
  });
});

describe('parseDagYaml normalization', () => {
  it('reads per-DAG access (roles and user:NAME) and refuses an entry that is neither', () => {
    expect(load('access:\n  view: [operator, "user:ana"]\n  operate: ["user:ana"]\n').access).toEqual({
      view: ['operator', 'user:ana'],
      operate: ['user:ana'],
    });
    expect(load('').access).toBeUndefined();
    const error = issuesOf(() => load('access:\n  view: [owner]\n'));
    expect(error.message).toMatch(/access\.view/);
  });

  it('takes task value, then DAG defaults, then model defaults, merging retry and resources by field', () => {
    const dag = load(
      [
        'defaults:',
        '  retry: { retries: 2, delay: 1m, nonRetryable: [ValidationError] }',
        '  resources: { cpu: 0.5, memoryMb: 1Gi, licenses: 1 }',
        '  timeout: 1h',
        '  pool: cpu-small',
        '  priorityWeight: 5',
        '  triggerRule: none_failed',
        '',
      ].join('\n'),
      [
        'tasks:',
        '  plain:',
        '    operator: empty',
        '  custom:',
        '    operator: empty',
        '    retry: { delay: 250ms, jitter: false }',
        '    resources: { gpu: 1, licenses: 2, seats: 3 }',
        '    timeout: 1h30m',
        '    pool: gpu',
        '    priorityWeight: -2',
        '    triggerRule: always',
        '',
      ].join('\n'),
    );
    const plain = task(dag.tasks, 'plain');
    expect(plain.retry).toEqual({ ...DEFAULT_RETRY, retries: 2, delayMs: 60_000, nonRetryable: ['ValidationError'] });
    expect(plain.resources).toEqual({ cpu: 0.5, memoryMb: 1024, gpu: 0, custom: { licenses: 1 } });
    expect(plain).toMatchObject({
      timeoutMs: 3_600_000,
      pool: 'cpu-small',
      priorityWeight: 5,
      triggerRule: 'none_failed',
    });
    const custom = task(dag.tasks, 'custom');
    expect(custom.retry).toEqual({
      ...DEFAULT_RETRY,
      retries: 2,
      delayMs: 250,
      jitter: false,
      nonRetryable: ['ValidationError'],
    });
    expect(custom.resources).toEqual({ cpu: 0.5, memoryMb: 1024, gpu: 1, custom: { licenses: 2, seats: 3 } });
    expect(custom).toMatchObject({ timeoutMs: 5_400_000, pool: 'gpu', priorityWeight: -2, triggerRule: 'always' });
  });

  it('uses the model defaults when neither the task nor the DAG sets a value', () => {
    const only = task(load('').tasks, 'only');
    expect(only.retry).toEqual(DEFAULT_RETRY);
    expect(only.resources).toEqual(DEFAULT_RESOURCES);
    expect(only.triggerRule).toBe('all_success');
    expect(only.priorityWeight).toBe(1);
    expect(only.timeoutMs).toBeUndefined();
    expect(only.pool).toBeUndefined();
    expect(only.shortCircuit).toBeUndefined();
  });

  it.each([
    ['"0 6 * * 1-5"', { kind: 'cron', cron: '0 6 * * 1-5', timezone: 'UTC' }],
    ['"  0   6 * * *  "', { kind: 'cron', cron: '0 6 * * *', timezone: 'UTC' }],
    ["'@once'\nstartDate: '2026-12-01'", { kind: 'once' }],
    ["'@hourly'", { kind: 'cron', cron: '0 * * * *', timezone: 'UTC' }],
    ["'@daily'", { kind: 'cron', cron: '0 0 * * *', timezone: 'UTC' }],
    ["'@weekly'", { kind: 'cron', cron: '0 0 * * 0', timezone: 'UTC' }],
    ["'@monthly'", { kind: 'cron', cron: '0 0 1 * *', timezone: 'UTC' }],
    ["'@quarterly'", { kind: 'cron', cron: '0 0 1 */3 *', timezone: 'UTC' }],
    ["'@yearly'", { kind: 'cron', cron: '0 0 1 1 *', timezone: 'UTC' }],
    ['{ cron: "@daily", timezone: Europe/Madrid }', { kind: 'cron', cron: '0 0 * * *', timezone: 'Europe/Madrid' }],
    ['{ every: 4h }', { kind: 'every', everyMs: 14_400_000 }],
    ['{ every: 1h30m }', { kind: 'every', everyMs: 5_400_000 }],
    ['{ events: [model_trained, data_landed] }', { kind: 'events', events: ['model_trained', 'data_landed'] }],
    ['{ event: model_trained }', { kind: 'events', events: ['model_trained'] }],
    ['{ datasets: ["s3://lake/iris"] }', { kind: 'datasets', datasets: ['s3://lake/iris'] }],
    [
      '{ datasets: [a, b], cron: "0 1 * * *", timezone: Asia/Tokyo }',
      { kind: 'datasets', datasets: ['a', 'b'], orCron: { cron: '0 1 * * *', timezone: 'Asia/Tokyo' } },
    ],
  ])('reads schedule %s', (schedule, expected) => {
    expect(load(`schedule: ${schedule}\n`).schedule).toEqual(expected);
  });

  it('leaves the schedule out when the file has none or leaves it empty', () => {
    expect(load('').schedule).toBeUndefined();
    expect(load('schedule:\n').schedule).toBeUndefined();
    expect('schedule' in load('schedule: ~\n')).toBe(false);
  });

  it('reads dates as ISO-8601 or YAML timestamps, UTC unless an offset is given', () => {
    const dag = load('startDate: 2024-01-01\nendDate: "2024-06-30T12:30:00-03:00"\n');
    expect(dag.startDateMs).toBe(Date.UTC(2024, 0, 1));
    expect(dag.endDateMs).toBe(Date.UTC(2024, 5, 30, 15, 30));
    expect(load('startDate: 2001-12-14 21:59:43.10 -5\n').startDateMs).toBe(Date.UTC(2001, 11, 15, 2, 59, 43, 100));
  });

  it('reads mapping over an upstream and over a literal list, with the default cap', () => {
    const dag = load(
      '',
      [
        'tasks:',
        '  list_files:',
        '    operator: empty',
        '  process:',
        '    operator: empty',
        '    upstream: list_files',
        '    map:',
        '      over: { file: list_files, region: [eu, us] }',
        '  capped:',
        '    operator: empty',
        '    map: { over: { n: [1, 2, 3] }, maxLength: 3 }',
        '',
      ].join('\n'),
    );
    expect(task(dag.tasks, 'process').map).toEqual({
      over: { file: { fromTask: 'list_files' }, region: { values: ['eu', 'us'] } },
      maxLength: 1024,
    });
    expect(task(dag.tasks, 'capped').map).toEqual({ over: { n: { values: [1, 2, 3] } }, maxLength: 3 });
  });

  it.each([
    ['true', 'all'],
    ['all', 'all'],
    ['direct', 'direct'],
    ['false', undefined],
  ])('reads shortCircuit: %s as %s', (written, expected) => {
    const only = task(load('', `tasks:\n  only:\n    operator: empty\n    shortCircuit: ${written}\n`).tasks, 'only');
    expect(only.shortCircuit).toBe(expected);
  });

  it('keeps the other task settings: branch, dependsOnPast, outlets, doc, tags, owner, params', () => {
    const dag = load(
      'tags: [ml, nightly]\nowner: data-team\nmaxActiveTasks: 4\ncatchup: true\nparams:\n  mode: { type: string, enum: [fast, full], default: fast, description: How thorough }\n',
      'tasks:\n  pick:\n    operator: empty\n    branch: true\n    dependsOnPast: true\n    outlets: ["s3://lake/out"]\n    doc: Chooses a path\n',
    );
    expect(dag).toMatchObject({ tags: ['ml', 'nightly'], owner: 'data-team', maxActiveTasks: 4, catchup: true });
    expect(dag.params).toEqual({
      mode: { type: 'string', enum: ['fast', 'full'], default: 'fast', description: 'How thorough' },
    });
    expect(task(dag.tasks, 'pick')).toMatchObject({
      branch: true,
      dependsOnPast: true,
      outlets: ['s3://lake/out'],
      doc: 'Chooses a path',
    });
  });

  it('keeps file order for task ids that look like numbers', () => {
    const dag = load(
      '',
      'tasks:\n  b:\n    operator: empty\n  "2":\n    operator: empty\n  "1":\n    operator: empty\n',
    );
    expect(dag.tasks.map((t) => t.id)).toEqual(['b', '2', '1']);
  });

  it('treats an id such as constructor as a plain id, and refuses __proto__, which parsers drop', () => {
    const dag = load(
      '',
      'tasks:\n  constructor:\n    operator: empty\n  toString:\n    operator: empty\n    upstream: [constructor]\n',
    );
    expect(dag.tasks.map((t) => [t.id, t.upstream])).toEqual([
      ['constructor', []],
      ['toString', ['constructor']],
    ]);
    const error = issuesOf(() => load('', 'tasks:\n  __proto__:\n    operator: empty\n'));
    expect(error.issues[0]).toMatchObject({
      code: 'INVALID_ID',
      field: 'tasks.__proto__',
      location: { line: 3, column: 3 },
    });
  });

  it('asks to quote a task id written as a number, since YAML reads a key `1:` as "1" but an item `1` as 1', () => {
    const error = issuesOf(() =>
      load('', 'tasks:\n  1:\n    operator: empty\n  2:\n    operator: empty\n    upstream: [1]\n'),
    );
    expect(error.issues[0]).toMatchObject({ code: 'INVALID_TYPE', field: 'tasks.2.upstream[0]' });
    expect(error.issues[0]?.message).toBe("expected a task id, got number 1; quote it ('1') if that is the id");
    expect(
      load('', 'tasks:\n  1:\n    operator: empty\n  2:\n    operator: empty\n    upstream: ["1"]\n').tasks[1]
        ?.upstream,
    ).toEqual(['1']);
  });

  // How long this takes is measured by `npm run bench -- yamlload` (1,000 vs 10,000 tasks), not asserted here.
  it('loads a file of 10,000 tasks and 20,000 aliases', () => {
    const tasks = [
      'tasks:',
      '  t0: &base',
      '    operator: empty',
      '    resources: { cpu: 1, memoryMb: 64 }',
      '    retry: &r { retries: 1 }',
    ];
    for (let index = 1; index < 10_000; index++) {
      tasks.push(`  t${index}:`, '    <<: *base', '    retry: *r', `    upstream: [t${index - 1}]`);
    }
    const dag = load('', `${tasks.join('\n')}\n`);
    expect(dag.tasks).toHaveLength(10_000);
    expect(dag.tasks[9_999]).toMatchObject({ upstream: ['t9998'], retry: { retries: 1 }, resources: { memoryMb: 64 } });
  });

  it('checks operators and their arguments only when a registry is given', () => {
    const text =
      'id: ops\ntasks:\n  run:\n    operator: shell\n    with: { command: 7 }\n  other:\n    operator: custom.thing\n';
    expect(parseDagYaml(text, 'ops.yaml').tasks).toHaveLength(2);
    const error = issuesOf(() => parseDagYaml(text, 'ops.yaml', { operators }));
    expect(error.issues.map((issue) => [issue.code, issue.field])).toEqual([
      ['INVALID_OPERATOR_ARGS', 'tasks.run.with.command'],
      ['UNKNOWN_OPERATOR', 'tasks.other.operator'],
    ]);
  });

  it('reports structural problems and graph problems of one file together', () => {
    const error = issuesOf(() =>
      parseDagYaml(
        'id: mixed\ntasks:\n  a:\n    operator: empty\n    upstream: [b]\n    retry: { retries: x }\n  b:\n    operator: empty\n    upstream: [a]\n',
        'mixed.yaml',
      ),
    );
    expect(error.issues.map((issue) => `${issue.location?.line}:${issue.location?.column} ${issue.code}`)).toEqual([
      '5:16 DAG_CYCLE',
      '6:23 INVALID_TYPE',
    ]);
  });

  it('points an issue about an empty value at its key', () => {
    const error = issuesOf(() => load('', 'tasks:\n  only:\n    operator: empty\n    timeout:\n'));
    expect(error.issues[0]).toMatchObject({
      code: 'BAD_DURATION',
      field: 'tasks.only.timeout',
      location: { file: 'inline.yaml', line: 5, column: 5 },
    });
  });
});

describe('loadDagDirectory', () => {
  it('loads the good files in path order, keeps a bad file aside, and refuses a second file with the same DAG id', async () => {
    const dir = fixture('dag-folder');
    const { dags, errors } = await loadDagDirectory(dir, { operators });
    expect(dags.map((dag) => dag.id)).toEqual(['first', 'second', 'third']);
    expect(dags.map((dag) => dag.sourceFile)).toEqual([
      `${dir}/a-first.yaml`,
      `${dir}/nested/b-second.yml`,
      `${dir}/nested/deeper/c-third.YAML`,
    ]);
    expect(errors.map(({ file, error }) => [file, (error as DagValidationError).code])).toEqual([
      [`${dir}/broken.yaml`, 'UNKNOWN_UPSTREAM'],
      [`${dir}/z-duplicate.yaml`, 'DUPLICATE_DAG_ID'],
    ]);
    const duplicate = (errors[1]?.error as DagValidationError | undefined)?.issues[0];
    expect(duplicate).toMatchObject({
      field: 'id',
      location: { file: `${dir}/z-duplicate.yaml`, line: 2, column: 5 },
    });
    expect(duplicate?.message).toContain(`DAG id 'first' is already defined in ${dir}/a-first.yaml`);
  });
});
