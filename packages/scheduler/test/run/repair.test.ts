// Which instances a clear or mark touches, table-driven against Airflow's documented semantics
// (../shared/AIRFLOW.md, "Clearing, marking"): clear resets the chosen instances to no state with their
// try numbers kept; downstream/upstream add every task below/above; only-failed keeps failed and
// upstream_failed; a mapped task cleared whole re-expands; mark sets the state without running anything.
import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../src/dag/model.js';
import { isBatutaError } from '../../src/errors.js';
import { RunEngine } from '../../src/run/engine.js';
import { compilePlan } from '../../src/run/plan.js';
import { planRepair, type RepairInstance, type RepairRequest } from '../../src/run/repair.js';
import { dag, retries, task } from './helpers.js';

// extract → transform → load, transform → report; each (a mapped task over extract's list) → join
const plan = compilePlan(
  dag([
    task('extract'),
    task('transform', ['extract']),
    task('load', ['transform']),
    task('report', ['transform']),
    task('each', ['extract'], { map: { over: { x: { fromTask: 'extract' } }, maxLength: 1024 } }),
    task('join', ['each']),
  ]),
);

const i = (taskId: string, state: TaskState, tryNumber = 1, mapIndex = -1): RepairInstance => ({
  taskId,
  mapIndex,
  state,
  tryNumber,
});

/** A failed run: transform failed on its 2nd try, its downstreams upstream_failed; each had 3 instances, one failed. */
const failedRun: RepairInstance[] = [
  i('extract', 'success'),
  i('transform', 'failed', 2),
  i('load', 'upstream_failed', 0),
  i('report', 'upstream_failed', 0),
  i('each', 'failed', 0),
  i('each', 'success', 1, 0),
  i('each', 'failed', 1, 1),
  i('each', 'success', 1, 2),
  i('join', 'upstream_failed', 0),
];

type Row = [name: string, request: RepairRequest, instances: RepairInstance[], expected: string[]];

/** `task#mapIndex:from→to` for each change. */
const summary = (request: RepairRequest, instances: RepairInstance[]): string[] =>
  planRepair(plan, instances, request).changes.map((c) => `${c.taskId}#${c.mapIndex}:${c.from}→${c.to}`);

const rows: Row[] = [
  ['clear one task: only it', { action: 'clear', taskIds: ['transform'] }, failedRun, ['transform#-1:failed→none']],
  [
    'clear --downstream: it and every task below',
    { action: 'clear', taskIds: ['transform'], downstream: true },
    failedRun,
    ['transform#-1:failed→none', 'load#-1:upstream_failed→none', 'report#-1:upstream_failed→none'],
  ],
  [
    'clear --upstream: it and every task above',
    { action: 'clear', taskIds: ['load'], upstream: true },
    failedRun,
    ['extract#-1:success→none', 'transform#-1:failed→none', 'load#-1:upstream_failed→none'],
  ],
  [
    'clear --only-failed keeps successes (failed and upstream_failed only)',
    { action: 'clear', taskIds: ['extract', 'transform'], downstream: true, onlyFailed: true },
    failedRun,
    [
      'transform#-1:failed→none',
      'load#-1:upstream_failed→none',
      'report#-1:upstream_failed→none',
      'each#-1:failed→running',
      'each#1:failed→none',
      'join#-1:upstream_failed→none',
    ],
  ],
  [
    'clear of a mapped task resets every map index and re-expands',
    { action: 'clear', taskIds: ['each'] },
    failedRun,
    ['each#-1:failed→none', 'each#0:success→none', 'each#1:failed→none', 'each#2:success→none'],
  ],
  [
    'a mapped task still running has no parent record: it is cleared whole too',
    { action: 'clear', taskIds: ['each'] },
    [i('extract', 'success'), i('each', 'running', 1, 0), i('each', 'success', 1, 1)],
    ['each#-1:running→none', 'each#0:running→none', 'each#1:success→none'],
  ],
  [
    'instances that never ran (none) have nothing to clear',
    { action: 'clear', taskIds: ['transform'], downstream: true },
    [i('extract', 'success'), i('transform', 'running', 1)],
    ['transform#-1:running→none'],
  ],
  [
    'clear --only-running leaves ended instances alone',
    { action: 'clear', taskIds: ['extract', 'transform'], onlyRunning: true },
    [i('extract', 'success'), i('transform', 'running', 1)],
    ['transform#-1:running→none'],
  ],
  [
    'mark failed --downstream marks every task below as well',
    { action: 'mark', taskIds: ['transform'], state: 'failed', downstream: true },
    [i('extract', 'success'), i('transform', 'running', 1)],
    ['transform#-1:running→failed', 'load#-1:none→failed', 'report#-1:none→failed'],
  ],
  [
    'mark success leaves instances already in that state alone',
    { action: 'mark', taskIds: ['extract', 'transform'], state: 'success' },
    failedRun,
    ['transform#-1:failed→success'],
  ],
  [
    'mark skipped of a mapped task marks its parent and every instance',
    { action: 'mark', taskIds: ['each'], state: 'skipped' },
    failedRun,
    ['each#-1:failed→skipped', 'each#0:success→skipped', 'each#1:failed→skipped', 'each#2:success→skipped'],
  ],
];

describe('planRepair (Airflow clear/mark semantics)', () => {
  it.each(rows)('%s', (_name, request, instances, expected) => {
    expect(summary(request, instances)).toEqual(expected);
  });

  it('keeps the try number and records the tries made before the clear', () => {
    const [change] = planRepair(plan, failedRun, { action: 'clear', taskIds: ['transform'] }).changes;
    expect(change).toMatchObject({ tryNumber: 2, triesBeforeClear: 2, stopAttempt: false });
  });

  it('asks to stop an attempt that is out, for a clear and for a mark', () => {
    const running = [i('extract', 'success'), i('transform', 'queued', 1)];
    const clear = planRepair(plan, running, { action: 'clear', taskIds: ['transform'] });
    const mark = planRepair(plan, running, { action: 'mark', taskIds: ['transform'], state: 'success' });
    expect(clear.changes[0]?.stopAttempt).toBe(true);
    expect(mark.changes[0]?.stopAttempt).toBe(true);
  });

  it('lists the chosen tasks in DAG order', () => {
    const repair = planRepair(plan, failedRun, { action: 'clear', taskIds: ['extract'], downstream: true });
    expect(repair.taskIds).toEqual(['extract', 'transform', 'load', 'report', 'each', 'join']);
  });

  it('refuses an unknown task id with UNKNOWN_TASK, naming the DAG and its tasks', () => {
    let caught: unknown;
    try {
      planRepair(plan, failedRun, { action: 'clear', taskIds: ['transfrom'] });
    } catch (error) {
      caught = error;
    }
    expect(isBatutaError(caught, 'UNKNOWN_TASK')).toBe(true);
    expect((caught as Error).message).toContain("no task 'transfrom'");
    expect((caught as Error).message).toContain('extract, transform');
  });
});

describe('planRepair: mark of a mapped task and its aggregate output', () => {
  it('mark success of the whole task writes the aggregate: kept outputs of instances that succeeded, null for the marked', () => {
    const repair = planRepair(plan, failedRun, { action: 'mark', taskIds: ['each'], state: 'success' });
    expect(repair.aggregates).toEqual([
      {
        taskId: 'each',
        entries: [
          { mapIndex: 0, kept: true },
          { mapIndex: 1, kept: false },
          { mapIndex: 2, kept: true },
        ],
      },
    ]);
  });

  it('leaves removed instances out of the aggregate, and a task that never expanded gets an empty one', () => {
    const withRemoved = [
      i('extract', 'success'),
      i('each', 'failed', 0),
      i('each', 'failed', 1, 0),
      i('each', 'removed', 1, 1),
    ];
    const mark = { action: 'mark', taskIds: ['each'], state: 'success' } as const;
    expect(planRepair(plan, withRemoved, mark).aggregates).toEqual([
      { taskId: 'each', entries: [{ mapIndex: 0, kept: false }] },
    ]);
    const unexpanded = [i('extract', 'failed'), i('each', 'upstream_failed', 0)];
    expect(planRepair(plan, unexpanded, mark).aggregates).toEqual([{ taskId: 'each', entries: [] }]);
  });

  it('writes no aggregate for a mark failed or skipped, nor for a mapped task already success', () => {
    expect(planRepair(plan, failedRun, { action: 'mark', taskIds: ['each'], state: 'failed' }).aggregates).toEqual([]);
    const done = [i('extract', 'success'), i('each', 'success', 0), i('each', 'success', 1, 0)];
    expect(planRepair(plan, done, { action: 'mark', taskIds: ['each'], state: 'success' }).aggregates).toEqual([]);
  });

  it('marks chosen map indexes only, opening an ended parent so the engine aggregates it anew', () => {
    expect(summary({ action: 'mark', taskIds: ['each'], state: 'success', mapIndexes: [1] }, failedRun)).toEqual([
      'each#-1:failed→running',
      'each#1:failed→success',
    ]);
    const running = [i('extract', 'success'), i('each', 'running', 1, 0), i('each', 'success', 1, 1)];
    expect(summary({ action: 'mark', taskIds: ['each'], state: 'failed', mapIndexes: [0, 1] }, running)).toEqual([
      'each#0:running→failed',
      'each#1:success→failed',
    ]);
    const repair = planRepair(plan, failedRun, {
      action: 'mark',
      taskIds: ['each'],
      state: 'success',
      mapIndexes: [1],
    });
    expect(repair.aggregates).toEqual([]);
    expect(repair.runReason).toContain("'each' map index 1 marked success");
  });

  it('with map indexes, marks the tasks --downstream adds whole', () => {
    const request = {
      action: 'mark',
      taskIds: ['each'],
      state: 'success',
      mapIndexes: [1],
      downstream: true,
    } as const;
    expect(summary(request, failedRun)).toEqual([
      'each#-1:failed→running',
      'each#1:failed→success',
      'join#-1:upstream_failed→success',
    ]);
  });

  it.each([
    ['an index the task does not have', ['each'], [7], "'each' has no map index 7; its map indexes are 0..2"],
    ['an unmapped task', ['transform'], [0], "'transform' of DAG 'test_dag' is not a mapped task"],
  ])('refuses %s with UNKNOWN_MAP_INDEX', (_name, taskIds, mapIndexes, message) => {
    let caught: unknown;
    try {
      planRepair(plan, failedRun, { action: 'mark', taskIds, state: 'success', mapIndexes });
    } catch (error) {
      caught = error;
    }
    expect(isBatutaError(caught, 'UNKNOWN_MAP_INDEX')).toBe(true);
    expect((caught as Error).message).toContain(message);
  });

  it('refuses map indexes of a mapped task that has not expanded', () => {
    const unexpanded = [i('extract', 'failed'), i('each', 'upstream_failed', 0)];
    expect(() =>
      planRepair(plan, unexpanded, { action: 'mark', taskIds: ['each'], state: 'success', mapIndexes: [0] }),
    ).toThrow(/no mapped instances \(it is upstream_failed, not expanded\)/);
  });
});

describe('RunEngine after a repair (restored from the repaired records)', () => {
  const mappedPlan = compilePlan(
    dag([
      task('extract'),
      task('each', ['extract'], { map: { over: { x: { fromTask: 'extract' } }, maxLength: 1024 } }),
    ]),
  );
  const snapshot = (taskId: string, state: TaskState, tryNumber: number, mapIndex = -1) => ({
    taskId,
    mapIndex,
    state,
    tryNumber,
    reason: '',
    ...(state === 'none' && tryNumber > 0 ? { triesBeforeClear: tryNumber } : {}),
  });

  it('re-expands a mapped task cleared whole: indexes continue their tries, vanished ones are removed', () => {
    // extract was cleared too and now yields 2 items where it yielded 3.
    const engine = RunEngine.restore(
      mappedPlan,
      { runId: 'r' },
      [
        snapshot('extract', 'none', 1),
        snapshot('each', 'none', 0),
        snapshot('each', 'none', 1, 0),
        snapshot('each', 'none', 2, 1),
        snapshot('each', 'none', 1, 2),
      ],
      new Map(),
    );
    const first = engine.resume(0);
    expect(first).toMatchObject([{ kind: 'run', taskId: 'extract', tryNumber: 2 }]);
    const after = engine.complete({ taskId: 'extract', mapIndex: -1 }, { status: 'success', output: [7, 8] }, 0);
    const runs = after.filter((d) => d.kind === 'run').map((d) => `${d.taskId}#${d.mapIndex}@${d.tryNumber}`);
    expect(runs).toEqual(['each#0@2', 'each#1@3']);
    const removed = after.flatMap((d) => (d.kind === 'mark' && d.state === 'removed' ? [d.mapIndex] : []));
    expect(removed).toEqual([2]);
  });

  it('reruns only the cleared map indexes when the expansion stays, each as its next try', () => {
    const engine = RunEngine.restore(
      mappedPlan,
      { runId: 'r' },
      [
        snapshot('extract', 'success', 1),
        snapshot('each', 'running', 0),
        snapshot('each', 'success', 1, 0),
        snapshot('each', 'none', 1, 1),
      ],
      new Map<string, unknown>([
        ['extract#-1', [1, 2]],
        ['each#0', 'a'],
      ]),
    );
    const decisions = engine.resume(0);
    expect(decisions.filter((d) => d.kind === 'run')).toMatchObject([{ taskId: 'each', mapIndex: 1, tryNumber: 2 }]);
    const end = engine.complete({ taskId: 'each', mapIndex: 1 }, { status: 'success', output: 'b' }, 0);
    expect(end.at(-1)).toMatchObject({ kind: 'finish', state: 'success' });
  });

  it('a task mapped over a mapped task marked success before it expanded maps over the stored aggregate', () => {
    const chained = compilePlan(
      dag([
        task('extract'),
        task('each', ['extract'], { map: { over: { x: { fromTask: 'extract' } }, maxLength: 1024 } }),
        task('again', ['each'], { map: { over: { y: { fromTask: 'each' } }, maxLength: 1024 } }),
      ]),
    );
    // extract failed; each was marked success without instances, so its aggregate is [].
    const engine = RunEngine.restore(
      chained,
      { runId: 'r' },
      [snapshot('extract', 'failed', 1), snapshot('each', 'success', 0)],
      new Map<string, unknown>([['each#-1', []]]),
    );
    const decisions = engine.resume(0);
    expect(decisions).toContainEqual(
      expect.objectContaining({
        kind: 'mark',
        taskId: 'again',
        state: 'skipped',
        reason: expect.stringContaining('empty list'),
      }),
    );
  });

  it('a cleared instance that fails again is retried within its own retries, counted from the clear', () => {
    const flaky = compilePlan(dag([task('flaky', [], { retry: retries(1) })]));
    const engine = RunEngine.restore(flaky, { runId: 'r' }, [snapshot('flaky', 'none', 2)], new Map());
    expect(engine.resume(0)).toMatchObject([{ kind: 'run', tryNumber: 3 }]);
    const retry = engine.complete({ taskId: 'flaky', mapIndex: -1 }, { status: 'failed', error: { message: 'x' } }, 0);
    expect(retry[0]).toMatchObject({ kind: 'retry', nextTryNumber: 4 });
    expect(engine.explain('flaky')).toContain('counted since its clear after try 2');
    const last = engine.retryDue({ taskId: 'flaky', mapIndex: -1 }, 1_000);
    expect(last).toMatchObject([{ kind: 'run', tryNumber: 4, reason: expect.stringContaining('try 4 of 4') }]);
    const end = engine.complete({ taskId: 'flaky', mapIndex: -1 }, { status: 'failed', error: { message: 'x' } }, 0);
    expect(end.at(-1)).toMatchObject({ kind: 'finish', state: 'failed' });
  });
});
