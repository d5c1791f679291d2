import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../src/dag/model.js';
import { BatutaError } from '../../src/errors.js';
import { RunEngine } from '../../src/run/engine.js';
import { compilePlan } from '../../src/run/plan.js';
import type { Decision } from '../../src/run/types.js';
import {
  dag,
  drive,
  engineFor,
  failed,
  finishOf,
  marks,
  ok,
  retries,
  runIds,
  runsOf,
  skippedOutcome,
  task,
} from './helpers.js';

const key = (taskId: string, mapIndex = -1) => ({ taskId, mapIndex });

function thrown(fn: () => unknown): BatutaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BatutaError) return error;
    throw error;
  }
  throw new Error('expected a BatutaError');
}

describe('RunEngine basics', () => {
  it('finishes an empty DAG with success at once', () => {
    const engine = engineFor([]);
    expect(engine.state).toBe('queued');
    expect(engine.start(0)).toEqual([{ kind: 'finish', state: 'success', reason: 'the DAG has no tasks' }]);
    expect(engine.state).toBe('success');
  });

  it('runs a chain one task after another and finishes with success', () => {
    const engine = engineFor([task('a'), task('b', ['a']), task('c', ['b'])]);
    const started = engine.start(0);
    expect(started).toEqual([
      { kind: 'run', taskId: 'a', mapIndex: -1, tryNumber: 1, item: undefined, reason: 'ready: no upstream tasks' },
    ]);
    expect(engine.state).toBe('running');
    engine.queued(key('a'), 1);
    engine.running(key('a'), 2);
    expect(engine.instance(key('a'))?.state).toBe('running');
    const afterA = engine.complete(key('a'), ok(), 3);
    expect(afterA).toEqual([
      { kind: 'mark', taskId: 'a', mapIndex: -1, state: 'success', reason: 'success after 1 try' },
      {
        kind: 'run',
        taskId: 'b',
        mapIndex: -1,
        tryNumber: 1,
        item: undefined,
        reason: 'ready: 1 of 1 upstream done (1 success); rule all_success',
      },
    ]);
    expect(runIds(engine.complete(key('b'), ok(), 4))).toEqual(['c']);
    const last = engine.complete(key('c'), ok(), 5);
    expect(finishOf(last)).toEqual({
      kind: 'finish',
      state: 'success',
      reason: 'every leaf task succeeded or was skipped (1 leaf)',
    });
    expect(engine.state).toBe('success');
  });

  it('starts every root and every `always` task at once', () => {
    const engine = engineFor([
      task('a'),
      task('b'),
      task('c', ['a', 'b']),
      task('d', ['c'], { triggerRule: 'always' }),
    ]);
    expect(runIds(engine.start(0))).toEqual(['a', 'b', 'd']);
  });

  it('throws when started twice', () => {
    const engine = engineFor([task('a')]);
    engine.start(0);
    expect(thrown(() => engine.start(1)).code).toBe('ENGINE_BAD_EVENT');
  });

  it('lists instances in declaration order, mapped instances after their parent', () => {
    const engine = engineFor([
      task('list'),
      task('each', ['list'], { map: { over: { x: { values: [1, 2] } }, maxLength: 10 } }),
      task('after', ['each']),
    ]);
    drive(engine);
    expect(engine.instances().map((i) => `${i.taskId}#${i.mapIndex}:${i.state}`)).toEqual([
      'list#-1:success',
      'each#-1:success',
      'each#0:success',
      'each#1:success',
      'after#-1:success',
    ]);
  });
});

describe('cascades', () => {
  it('marks a whole chain upstream_failed when its head fails, and fails the run naming the leaf', () => {
    const engine = engineFor([task('a'), task('b', ['a']), task('c', ['b']), task('d', ['c'])]);
    engine.start(0);
    const decisions = engine.complete(key('a'), failed('disk full', { code: 'ENOSPC' }), 1);
    expect(marks(decisions)).toEqual(['a=failed', 'b=upstream_failed', 'c=upstream_failed', 'd=upstream_failed']);
    expect(decisions[0]).toMatchObject({
      reason: 'failed after 1 try: ENOSPC: disk full; not retried: the task has no retries',
    });
    expect(finishOf(decisions)).toEqual({
      kind: 'finish',
      state: 'failed',
      reason: "1 leaf task did not succeed: 'd' (upstream_failed)",
    });
    expect(engine.instance(key('a'))?.error).toEqual({ message: 'disk full', code: 'ENOSPC' });
  });

  it('cascades a skip down a chain and ends the run with success', () => {
    const engine = engineFor([task('a'), task('b', ['a']), task('c', ['b'])]);
    engine.start(0);
    const decisions = engine.complete(key('a'), skippedOutcome('no new files'), 1);
    expect(marks(decisions)).toEqual(['a=skipped', 'b=skipped', 'c=skipped']);
    expect(decisions[0]).toMatchObject({ reason: 'skipped by the task itself on try 1: no new files' });
    expect(finishOf(decisions)?.state).toBe('success');
  });

  it('lets a failure win over a skip in all_success when both are known', () => {
    // root fails: x (all_success) becomes upstream_failed, y (all_skipped) skipped, in the same event.
    const engine = engineFor([
      task('root'),
      task('x', ['root']),
      task('y', ['root'], { triggerRule: 'all_skipped' }),
      task('join', ['x', 'y']),
    ]);
    engine.start(0);
    const decisions = engine.complete(key('root'), failed(), 1);
    expect(marks(decisions)).toEqual(['root=failed', 'x=upstream_failed', 'y=skipped', 'join=upstream_failed']);
  });

  it('marks an all_success join skipped on the first skipped parent, without waiting for the others', () => {
    const engine = engineFor([task('a'), task('b'), task('join', ['a', 'b'])]);
    engine.start(0);
    expect(marks(engine.complete(key('a'), skippedOutcome(), 1))).toEqual(['a=skipped', 'join=skipped']);
  });

  it('runs an all_done cleanup after a failure, and the run succeeds when that leaf succeeds', () => {
    const engine = engineFor([task('work'), task('cleanup', ['work'], { triggerRule: 'all_done' })]);
    const decisions = drive(engine, (k) => (k.taskId === 'work' ? failed() : ok()));
    expect(runIds(decisions)).toEqual(['work', 'cleanup']);
    expect(finishOf(decisions)?.state).toBe('success');
  });

  it('fires one_failed alerts as soon as one upstream fails and skips them when none failed', () => {
    const tasks = [task('a'), task('b'), task('alert', ['a', 'b'], { triggerRule: 'one_failed' })];
    const engine = engineFor(tasks);
    engine.start(0);
    expect(runIds(engine.complete(key('a'), failed(), 1))).toEqual(['alert']);

    const quiet = engineFor(tasks);
    quiet.start(0);
    expect(marks(quiet.complete(key('a'), ok(), 1))).toEqual(['a=success']);
    expect(marks(quiet.complete(key('b'), ok(), 2))).toEqual(['b=success', 'alert=skipped']);
  });

  it('cascades through mixed rules: skip through none_failed runs, upstream_failed through none_skipped does not', () => {
    const engine = engineFor([
      task('a'),
      task('b', ['a'], { triggerRule: 'none_failed' }),
      task('c', ['a'], { triggerRule: 'none_skipped' }),
    ]);
    engine.start(0);
    const decisions = engine.complete(key('a'), skippedOutcome(), 1);
    expect(marks(decisions)).toEqual(['a=skipped', 'c=skipped']);
    expect(runIds(decisions)).toEqual(['b']);
  });

  it('cascades 100,000 tasks deep without overflowing the stack', () => {
    const n = 100_000;
    const engine = engineFor(Array.from({ length: n }, (_, i) => task(`t${i}`, i === 0 ? [] : [`t${i - 1}`])));
    engine.start(0);
    const decisions = engine.complete(key('t0'), failed(), 1);
    expect(decisions).toHaveLength(n + 1);
    expect(engine.state).toBe('failed');
  });
});

describe('branching', () => {
  const branchDag = () => [
    task('pick', [], { branch: true }),
    task('a', ['pick']),
    task('b', ['pick']),
    task('join', ['a', 'b'], { triggerRule: 'none_failed_min_one_success' }),
  ];

  it('skips the branches not chosen before anything else, and the join runs after the chosen path', () => {
    const engine = engineFor(branchDag());
    engine.start(0);
    const decisions = engine.complete(key('pick'), ok('a'), 1);
    expect(decisions.map((d) => d.kind)).toEqual(['mark', 'mark', 'run']);
    expect(marks(decisions)).toEqual(['pick=success', 'b=skipped']);
    expect(decisions[1]).toMatchObject({ reason: "skipped by branch 'pick' (it chose 'a')" });
    expect(runIds(decisions)).toEqual(['a']);
    expect(engine.explain('join')).toBe('waiting: 1 of 2 upstreams done; rule none_failed_min_one_success');
    expect(runIds(engine.complete(key('a'), ok(), 2))).toEqual(['join']);
    expect(finishOf(engine.complete(key('join'), ok(), 3))?.state).toBe('success');
  });

  it('follows every id of a list and skips everything for null', () => {
    const both = engineFor(branchDag());
    both.start(0);
    expect(runIds(both.complete(key('pick'), ok(['a', 'b']), 1))).toEqual(['a', 'b']);

    const none = engineFor(branchDag());
    none.start(0);
    const decisions = none.complete(key('pick'), ok(null), 1);
    expect(marks(decisions)).toEqual(['pick=success', 'a=skipped', 'b=skipped', 'join=skipped']);
    expect(finishOf(decisions)?.state).toBe('success');
  });

  it('does not skip a direct downstream that a chosen path also reaches', () => {
    const engine = engineFor([
      task('pick', [], { branch: true }),
      task('a', ['pick']),
      task('mid', ['a']),
      task('other', ['pick']),
      task('join', ['pick', 'mid', 'other'], { triggerRule: 'none_failed_min_one_success' }),
    ]);
    engine.start(0);
    const decisions = engine.complete(key('pick'), ok('a'), 1);
    expect(marks(decisions)).toEqual(['pick=success', 'other=skipped']);
    expect(runIds(decisions)).toEqual(['a']);
    engine.complete(key('a'), ok(), 2);
    expect(runIds(engine.complete(key('mid'), ok(), 3))).toEqual(['join']);
  });

  it('fails the branch task, without retrying, when it chooses a task that is not a direct downstream', () => {
    const engine = engineFor([
      task('pick', [], { branch: true, retry: retries(3) }),
      task('a', ['pick']),
      task('far', ['a']),
    ]);
    engine.start(0);
    const decisions = engine.complete(key('pick'), ok('far'), 1);
    expect(marks(decisions)).toEqual(['pick=failed', 'a=upstream_failed', 'far=upstream_failed']);
    const error = engine.instance(key('pick'))?.error;
    expect(error?.code).toBe('BRANCH_UNKNOWN_TASK');
    expect(error?.message).toContain("chose 'far', which is not a direct downstream; choose among 'a'");
  });
});

describe('short-circuit', () => {
  const tasks = (mode: 'all' | 'direct') => [
    task('check', [], { shortCircuit: mode }),
    task('a', ['check']),
    task('b', ['a'], { triggerRule: 'all_done' }),
    task('c', ['b'], { triggerRule: 'always' }),
  ];

  it("skips every descendant regardless of trigger rules on a falsy result ('all')", () => {
    const engine = engineFor(tasks('all'));
    expect(runIds(engine.start(0))).toEqual(['check', 'c']); // `always` runs at once
    const decisions = engine.complete(key('check'), ok(0), 1);
    expect(marks(decisions)).toEqual(['check=success', 'a=skipped', 'b=skipped']);
    expect(decisions[1]).toMatchObject({
      reason: "skipped by short-circuit 'check': it returned a falsy value (all descendants, trigger rules ignored)",
    });
    expect(finishOf(engine.complete(key('c'), ok(), 2))?.state).toBe('success');
  });

  it("skips only direct downstreams and lets the rules cascade ('direct')", () => {
    const engine = engineFor(tasks('direct'));
    engine.start(0);
    const decisions = engine.complete(key('check'), ok(''), 1);
    expect(marks(decisions)).toEqual(['check=success', 'a=skipped']);
    expect(runIds(decisions)).toEqual(['b']); // all_done runs after a skip
  });

  it('changes nothing on a truthy result', () => {
    const engine = engineFor(tasks('all'));
    engine.start(0);
    expect(runIds(engine.complete(key('check'), ok({ rows: 3 }), 1))).toEqual(['a']);
  });
});

describe('dynamic mapping', () => {
  const mapped = (
    over: Record<string, { values: unknown[] } | { fromTask: string }>,
    upstream: string[] = [],
    maxLength = 1024,
  ) => task('each', upstream, { map: { over, maxLength } });

  it('expands over a literal list, then marks the parent from its instances', () => {
    const engine = engineFor([mapped({ x: { values: [1, 2, 3] } }), task('after', ['each'])]);
    const started = engine.start(0);
    expect(started[0]).toMatchObject({ kind: 'expand', taskId: 'each', count: 3 });
    expect(runsOf(started).map((d) => [d.mapIndex, d.item])).toEqual([
      [0, { x: 1 }],
      [1, { x: 2 }],
      [2, { x: 3 }],
    ]);
    expect(engine.mapCount('each')).toBe(3);
    expect(engine.instance(key('each'))?.state).toBe('running');
    engine.complete(key('each', 0), ok(), 1);
    expect(engine.explain('each')).toBe('running: 1 of 3 mapped instances done: 1 success');
    engine.complete(key('each', 2), ok(), 2);
    const last = engine.complete(key('each', 1), ok(), 3);
    expect(last.slice(0, 2)).toEqual([
      { kind: 'mark', taskId: 'each', mapIndex: 1, state: 'success', reason: 'success after 1 try' },
      {
        kind: 'mark',
        taskId: 'each',
        mapIndex: -1,
        state: 'success',
        reason: 'success: 3 of 3 mapped instances done: 3 success',
        output: [null, null, null],
      },
    ]);
    expect(runIds(last)).toEqual(['after']);
  });

  it("carries the succeeded instances' outputs on the mapped parent's success mark, skipping the rest", () => {
    const engine = engineFor([mapped({ x: { values: [1, 2, 3] } })]);
    engine.start(0);
    engine.complete(key('each', 0), { status: 'success', output: 10 }, 1);
    engine.complete(key('each', 1), { status: 'skipped', reason: 'not wanted' }, 2);
    const last = engine.complete(key('each', 2), { status: 'success', output: { n: 30 } }, 3);
    const parent = last.find((d) => d.kind === 'mark' && d.mapIndex === -1);
    expect(parent).toMatchObject({ state: 'success', output: [10, { n: 30 }] });
  });

  it('gives a mapped parent that failed or was skipped no output', () => {
    const engine = engineFor([mapped({ x: { values: [1, 2] } })]);
    engine.start(0);
    engine.complete(key('each', 0), { status: 'skipped', reason: 'a' }, 1);
    const last = engine.complete(key('each', 1), { status: 'skipped', reason: 'b' }, 2);
    const parent = last.find((d) => d.kind === 'mark' && d.mapIndex === -1);
    expect(parent).toMatchObject({ state: 'skipped' });
    expect(parent).not.toHaveProperty('output');
  });

  it("expands over an upstream's output", () => {
    const engine = engineFor([task('list'), mapped({ file: { fromTask: 'list' } }, ['list'])]);
    engine.start(0);
    const decisions = engine.complete(key('list'), ok(['a.csv', 'b.csv']), 1);
    expect(runsOf(decisions).map((d) => d.item)).toEqual([{ file: 'a.csv' }, { file: 'b.csv' }]);
  });

  it('expands a cross product with the first key varying slowest', () => {
    const engine = engineFor([mapped({ n: { values: [1, 2] }, s: { values: ['x', 'y', 'z'] } })]);
    const items = runsOf(engine.start(0)).map((d) => `${d.item?.n}${d.item?.s}`);
    expect(items).toEqual(['1x', '1y', '1z', '2x', '2y', '2z']);
  });

  it('marks a task mapped over an empty list skipped, and cascades the skip', () => {
    const engine = engineFor([task('list'), mapped({ x: { fromTask: 'list' } }, ['list']), task('after', ['each'])]);
    engine.start(0);
    const decisions = engine.complete(key('list'), ok([]), 1);
    expect(marks(decisions)).toEqual(['list=success', 'each=skipped', 'after=skipped']);
    expect(decisions[1]).toMatchObject({ reason: "skipped: mapped over an empty list ('x' has no elements)" });
    expect(engine.mapCount('each')).toBe(0);
  });

  it('fails a task whose expansion exceeds map.maxLength, stating the count and the cap', () => {
    const engine = engineFor([mapped({ a: { values: [1, 2, 3] }, b: { values: [1, 2] } }, [], 5)]);
    const decisions = engine.start(0);
    expect(marks(decisions)).toEqual(['each=failed']);
    const error = engine.instance(key('each'))?.error;
    expect(error?.code).toBe('MAP_TOO_LONG');
    expect(error?.message).toContain('would expand into 6 instances (3 × 2), over the cap of 5');
    expect(finishOf(decisions)?.state).toBe('failed');
  });

  it('fails with MAP_SOURCE_NOT_LIST when the source output is not a list', () => {
    const engine = engineFor([task('list'), mapped({ x: { fromTask: 'list' } }, ['list'])]);
    engine.start(0);
    engine.complete(key('list'), ok({ not: 'a list' }), 1);
    expect(engine.instance(key('each'))?.error?.code).toBe('MAP_SOURCE_NOT_LIST');
  });

  it('fails with MAP_SOURCE_NOT_UPSTREAM when the source is not an upstream', () => {
    const engine = engineFor([task('list'), task('other'), mapped({ x: { fromTask: 'list' } }, ['other'])]);
    engine.start(0);
    engine.complete(key('other'), ok(), 1);
    expect(engine.instance(key('each'))?.error?.code).toBe('MAP_SOURCE_NOT_UPSTREAM');
  });

  it('waits for its source under a rule that would run it earlier', () => {
    const engine = engineFor([
      task('list'),
      task('each', ['list'], { triggerRule: 'always', map: { over: { x: { fromTask: 'list' } }, maxLength: 9 } }),
    ]);
    expect(runIds(engine.start(0))).toEqual(['list']);
    expect(engine.explain('each')).toBe("waiting: map source 'list' is scheduled");
    expect(runIds(engine.complete(key('list'), ok([7]), 1))).toEqual(['each[0]']);
  });

  it.each<[string, Array<'ok' | 'fail' | 'skip'>, TaskState]>([
    ['failed if any instance failed', ['ok', 'fail', 'skip'], 'failed'],
    ['success if any succeeded', ['skip', 'ok', 'skip'], 'success'],
    ['skipped if all skipped', ['skip', 'skip', 'skip'], 'skipped'],
  ])('aggregates the parent: %s', (_, outcomes, state) => {
    const engine = engineFor([mapped({ x: { values: [0, 1, 2] } })]);
    const decisions = drive(engine, (k) => {
      const kind = outcomes[k.mapIndex]!;
      return kind === 'ok' ? ok() : kind === 'fail' ? failed() : skippedOutcome();
    });
    expect(engine.instance(key('each'))?.state).toBe(state);
    expect(finishOf(decisions)?.state).toBe(state === 'failed' ? 'failed' : 'success');
  });

  it("maps over a mapped task's list of successful outputs", () => {
    const engine = engineFor([
      task('double', [], { map: { over: { n: { values: [1, 2, 3, 4] } }, maxLength: 10 } }),
      task('report', ['double'], {
        triggerRule: 'all_done',
        map: { over: { v: { fromTask: 'double' } }, maxLength: 10 },
      }),
    ]);
    const decisions = drive(engine, (k) => {
      if (k.taskId !== 'double') return ok();
      const n = k.item?.n as number;
      return n === 3 ? skippedOutcome() : ok(n * 10);
    });
    const reports = runsOf(decisions).filter((d) => d.taskId === 'report');
    expect(reports.map((d) => d.item)).toEqual([{ v: 10 }, { v: 20 }, { v: 40 }]);
    expect(engine.mapCount('report')).toBe(3);
  });

  it('retries mapped instances one by one', () => {
    const engine = engineFor([
      task('each', [], { retry: retries(1), map: { over: { x: { values: ['a', 'b'] } }, maxLength: 10 } }),
    ]);
    engine.start(0);
    const retry = engine.complete(key('each', 1), failed(), 10);
    expect(retry).toEqual([
      expect.objectContaining({ kind: 'retry', taskId: 'each', mapIndex: 1, nextTryNumber: 2, atMs: 1010 }),
    ]);
    const again = engine.retryDue(key('each', 1), 1010);
    expect(runsOf(again)).toEqual([expect.objectContaining({ mapIndex: 1, tryNumber: 2, item: { x: 'b' } })]);
  });

  it('rejects events for the parent or for a map index that does not exist', () => {
    const engine = engineFor([mapped({ x: { values: [1] } })]);
    engine.start(0);
    expect(thrown(() => engine.complete(key('each'), ok(), 1)).message).toContain('it is a mapped task');
    expect(thrown(() => engine.complete(key('each', 1), ok(), 1)).message).toContain('map indexes 0..0');
  });
});

describe('retries', () => {
  it('retries a failed attempt after the fixed delay and fails after retries + 1 tries', () => {
    const engine = engineFor([task('flaky', [], { retry: retries(2, { delayMs: 5000 }) }), task('after', ['flaky'])]);
    engine.start(0);
    const first = engine.complete(key('flaky'), failed('timeout', { code: 'TASK_TIMEOUT' }), 100);
    expect(first).toEqual([
      {
        kind: 'retry',
        taskId: 'flaky',
        mapIndex: -1,
        nextTryNumber: 2,
        atMs: 5100,
        delayMs: 5000,
        reason: 'TASK_TIMEOUT: timeout; try 1 of 3 failed; 2 left; try 2 in 5000 ms',
      },
    ]);
    expect(engine.instance(key('flaky'))).toMatchObject({ state: 'up_for_retry', tryNumber: 1, nextTryAtMs: 5100 });
    expect(engine.explain('flaky')).toBe(
      'up_for_retry: TASK_TIMEOUT: timeout; try 1 of 3 failed; 2 left; try 2 in 5000 ms; due at 1970-01-01T00:00:05.100Z',
    );
    expect(runsOf(engine.retryDue(key('flaky'), 5100))).toEqual([
      expect.objectContaining({ tryNumber: 2, reason: 'retry: try 2 of 3 after TASK_TIMEOUT: timeout' }),
    ]);
    engine.complete(key('flaky'), failed(), 5200);
    engine.retryDue(key('flaky'), 10_200);
    const last = engine.complete(key('flaky'), failed('still broken'), 10_300);
    expect(marks(last)).toEqual(['flaky=failed', 'after=upstream_failed']);
    expect(last[0]).toMatchObject({
      reason: 'failed after 3 tries: still broken; not retried: all 3 tries used (retries: 2)',
    });
    expect(engine.explain('flaky')).toContain('failed after 3 tries');
  });

  it('succeeds on a later try and says so', () => {
    const engine = engineFor([task('flaky', [], { retry: retries(3) })]);
    const decisions = drive(engine, (k) => (k.tryNumber < 2 ? failed() : ok()));
    expect(runsOf(decisions).map((d) => d.tryNumber)).toEqual([1, 2]);
    expect(engine.explain('flaky')).toBe('success after 2 tries');
    expect(engine.state).toBe('success');
  });

  it('spaces exponential retries with jitter in [m, 2m), capped by maxDelayMs', () => {
    const policy = retries(5, { backoff: 'exponential', delayMs: 1000, jitter: true, maxDelayMs: 6000 });
    const engine = engineFor([task('flaky', [], { retry: policy })]);
    const decisions = drive(engine, () => failed());
    const delays = decisions.flatMap((d) => (d.kind === 'retry' ? [d.delayMs] : []));
    expect(delays).toHaveLength(5);
    expect(delays[0]).toBeGreaterThanOrEqual(1000);
    expect(delays[0]).toBeLessThan(2000);
    expect(delays[1]).toBeGreaterThanOrEqual(2000);
    expect(delays[1]).toBeLessThan(4000);
    expect(delays[2]).toBeGreaterThanOrEqual(4000);
    expect(delays[2]).toBeLessThanOrEqual(6000);
    expect(delays.slice(3)).toEqual([6000, 6000]);
    expect(runsOf(decisions)).toHaveLength(6);
  });

  it('does not retry errors listed in nonRetryable or marked not retryable', () => {
    const engine = engineFor([
      task('a', [], { retry: retries(3, { nonRetryable: ['ValidationError'] }) }),
      task('b', [], { retry: retries(3) }),
    ]);
    engine.start(0);
    const a = engine.complete(key('a'), failed('bad row', { name: 'ValidationError' }), 1);
    expect(a[0]).toMatchObject({ kind: 'mark', state: 'failed' });
    expect(a[0]).toMatchObject({
      reason: expect.stringContaining("'ValidationError' is in the task's nonRetryable list"),
    });
    const b = engine.complete(key('b'), failed('fatal', { retryable: false }), 2);
    expect(b[0]).toMatchObject({ kind: 'mark', state: 'failed' });
    expect(b.some((d) => d.kind === 'retry')).toBe(false);
  });

  it('gives the same jittered delay for the same run, task and try', () => {
    const policy = retries(1, { backoff: 'exponential', jitter: true, delayMs: 60_000 });
    const delayIn = (runId: string) => {
      const engine = new RunEngine(compilePlan(dag([task('t', [], { retry: policy })])), { runId });
      engine.start(0);
      const [retry] = engine.complete(key('t'), failed(), 0);
      return retry?.kind === 'retry' ? retry.delayMs : -1;
    };
    expect(delayIn('r1')).toBe(delayIn('r1'));
    expect(new Set(['r1', 'r2', 'r3', 'r4', 'r5'].map(delayIn)).size).toBeGreaterThan(1);
  });
});

describe('depends_on_past', () => {
  const tasks = () => [task('load', [], { dependsOnPast: true }), task('free')];

  it("holds a task whose previous run's instance did not succeed, and explains why", () => {
    const engine = engineFor(tasks(), { previousStates: new Map<string, TaskState>([['load', 'failed']]) });
    expect(runIds(engine.start(0))).toEqual(['free']);
    expect(engine.explain('load')).toBe("waiting: depends_on_past: previous run's 'load' is failed");
    expect(engine.instance(key('load'))?.reason).toBe("waiting: depends_on_past: previous run's 'load' is failed");
  });

  it.each<[string, ReadonlyMap<string, TaskState> | undefined]>([
    ['the first run', undefined],
    ['a previous success', new Map<string, TaskState>([['load', 'success']])],
    ['a previous skip', new Map<string, TaskState>([['load', 'skipped']])],
    ['a task new since the previous run', new Map<string, TaskState>([['free', 'failed']])],
  ])('runs the task after %s', (_, previousStates) => {
    const engine = engineFor(tasks(), { previousStates });
    expect(runIds(engine.start(0))).toEqual(['load', 'free']);
  });
});

describe('cancel', () => {
  it('fails attempts that were out, skips the rest, and finishes failed once', () => {
    const engine = engineFor([
      task('a'),
      task('b'),
      task('c'),
      task('d', ['a']),
      task('m', [], { map: { over: { x: { values: [1, 2] } }, maxLength: 5 } }),
    ]);
    engine.start(0);
    engine.queued(key('a'), 1);
    engine.running(key('a'), 2);
    engine.queued(key('b'), 3);
    engine.running(key('m', 0), 3);
    engine.complete(key('c'), ok(), 4);
    const decisions = engine.cancel('user request', 5);
    expect(marks(decisions)).toEqual(['a=failed', 'b=failed', 'd=skipped', 'm[0]=failed', 'm[1]=skipped', 'm=failed']);
    expect(decisions.at(-1)).toEqual({ kind: 'finish', state: 'failed', reason: 'run cancelled: user request' });
    expect(engine.state).toBe('failed');
    expect(engine.instance(key('a'))?.error?.code).toBe('RUN_CANCELLED');
    expect(engine.explain('d')).toBe('skipped: run cancelled (user request)');
    expect(engine.cancel('again', 6)).toEqual([]);
    expect(thrown(() => engine.complete(key('a'), ok(), 7)).code).toBe('ENGINE_BAD_EVENT');
  });

  it('cancels a run that never started', () => {
    const engine = engineFor([task('a')]);
    expect(marks(engine.cancel('not needed', 0))).toEqual(['a=skipped']);
    expect(engine.state).toBe('failed');
  });
});

describe('restore and resume', () => {
  const outputsOf = (entries: Array<[string, unknown]>) => new Map<string, unknown>(entries);

  it('re-runs attempts that were out with the same try and carries on', () => {
    const tasks = [task('a'), task('b', ['a'], { retry: retries(2) }), task('c', ['b'])];
    const engine = engineFor(tasks);
    engine.start(0);
    engine.complete(key('a'), ok(), 1);
    engine.complete(key('b'), failed(), 2);
    engine.retryDue(key('b'), 1002);
    engine.queued(key('b'), 1003);
    engine.running(key('b'), 1004);
    const snapshots = engine.instances();
    expect(snapshots.map((s) => s.state)).toEqual(['success', 'running', 'none']);

    const restored = RunEngine.restore(compilePlan(dag(tasks)), { runId: 'run_1' }, snapshots, new Map());
    expect(restored.instance(key('b'))).toMatchObject({ state: 'scheduled', tryNumber: 2 });
    const resumed = restored.resume(5000);
    expect(resumed).toEqual([
      expect.objectContaining({
        kind: 'run',
        taskId: 'b',
        tryNumber: 2,
        reason: 'resumed after restart: try 2 of 3 runs again',
      }),
    ]);
    expect(runIds(restored.complete(key('b'), ok(), 5001))).toEqual(['c']);
    expect(finishOf(restored.complete(key('c'), ok(), 5002))?.state).toBe('success');
    expect(thrown(() => restored.resume(6000)).code).toBe('ENGINE_BAD_EVENT');
  });

  it('re-arms a pending retry', () => {
    const tasks = [task('a', [], { retry: retries(1, { delayMs: 60_000 }) })];
    const engine = engineFor(tasks);
    engine.start(0);
    engine.complete(key('a'), failed(), 10);
    const restored = RunEngine.restore(compilePlan(dag(tasks)), { runId: 'run_1' }, engine.instances(), new Map());
    expect(restored.resume(30_010)).toEqual([
      expect.objectContaining({ kind: 'retry', taskId: 'a', nextTryNumber: 2, atMs: 60_010, delayMs: 30_000 }),
    ]);
    expect(runsOf(restored.retryDue(key('a'), 60_010))[0]?.tryNumber).toBe(2);
  });

  it('applies the skips of a completed branch again when they were not persisted', () => {
    const tasks = [task('pick', [], { branch: true }), task('a', ['pick']), task('b', ['pick'])];
    const snapshots = [
      { taskId: 'pick', mapIndex: -1, state: 'success' as const, tryNumber: 1, reason: 'success after 1 try' },
    ];
    const plan = compilePlan(dag(tasks));
    const restored = RunEngine.restore(plan, { runId: 'run_1' }, snapshots, outputsOf([['pick#-1', 'b']]));
    const decisions = restored.resume(0);
    expect(marks(decisions)).toEqual(['a=skipped']);
    expect(runIds(decisions)).toEqual(['b']);
    const missing = thrown(() => RunEngine.restore(plan, { runId: 'run_1' }, snapshots, new Map()));
    expect(missing.code).toBe('ENGINE_RESTORE_MISSING_OUTPUT');
  });

  it('rebuilds a mapped task from its source output and runs the instances that were out or never persisted', () => {
    const tasks = [task('list'), task('each', ['list'], { map: { over: { x: { fromTask: 'list' } }, maxLength: 10 } })];
    const plan = compilePlan(dag(tasks));
    const snapshots = [
      { taskId: 'list', mapIndex: -1, state: 'success' as const, tryNumber: 1, reason: '' },
      { taskId: 'each', mapIndex: -1, state: 'running' as const, tryNumber: 0, reason: '' },
      { taskId: 'each', mapIndex: 0, state: 'success' as const, tryNumber: 1, reason: '' },
      { taskId: 'each', mapIndex: 1, state: 'running' as const, tryNumber: 1, reason: '' },
    ];
    const restored = RunEngine.restore(plan, { runId: 'run_1' }, snapshots, outputsOf([['list#-1', ['p', 'q', 'r']]]));
    expect(restored.mapCount('each')).toBe(3);
    const decisions = restored.resume(0);
    expect(decisions[0]).toMatchObject({ kind: 'expand', taskId: 'each', count: 3 });
    expect(runsOf(decisions).map((d) => [d.mapIndex, d.tryNumber, d.item])).toEqual([
      [1, 1, { x: 'q' }],
      [2, 1, { x: 'r' }],
    ]);
    restored.complete(key('each', 1), ok(), 1);
    expect(finishOf(restored.complete(key('each', 2), ok(), 2))?.state).toBe('success');

    const noOutputs = thrown(() => RunEngine.restore(plan, { runId: 'run_1' }, snapshots, new Map()));
    expect(noOutputs.code).toBe('ENGINE_RESTORE_MISSING_OUTPUT');
  });

  it('leaves removed upstreams out, so their downstreams run', () => {
    const tasks = [task('gone'), task('kept'), task('after', ['gone', 'kept'])];
    const snapshots = [
      { taskId: 'gone', mapIndex: -1, state: 'removed' as const, tryNumber: 0, reason: 'removed from the DAG' },
      { taskId: 'kept', mapIndex: -1, state: 'success' as const, tryNumber: 1, reason: '' },
    ];
    const restored = RunEngine.restore(compilePlan(dag(tasks)), { runId: 'run_1' }, snapshots, new Map());
    expect(runIds(restored.resume(0))).toEqual(['after']);
  });

  it('finishes at once when every instance was already terminal', () => {
    const tasks = [task('a')];
    const snapshots = [{ taskId: 'a', mapIndex: -1, state: 'failed' as const, tryNumber: 1, reason: '' }];
    const restored = RunEngine.restore(compilePlan(dag(tasks)), { runId: 'run_1' }, snapshots, new Map());
    expect(finishOf(restored.resume(0))?.state).toBe('failed');
  });

  it('needs restore() before resume()', () => {
    expect(thrown(() => engineFor([task('a')]).resume(0)).code).toBe('ENGINE_BAD_EVENT');
  });
});

describe('run state from leaves', () => {
  it('fails the run when a leaf fails even if other leaves succeed, naming at most five', () => {
    const leaves = Array.from({ length: 7 }, (_, i) => task(`leaf${i}`, ['root']));
    const engine = engineFor([task('root'), ...leaves, task('ok_leaf')]);
    engine.start(0);
    engine.complete(key('ok_leaf'), ok(), 1);
    const decisions = engine.complete(key('root'), failed(), 2);
    expect(finishOf(decisions)?.reason).toBe(
      "7 leaf tasks did not succeed: 'leaf0' (upstream_failed), 'leaf1' (upstream_failed), 'leaf2' (upstream_failed), " +
        "'leaf3' (upstream_failed), 'leaf4' (upstream_failed) and 2 more",
    );
  });

  it('emits finish exactly once', () => {
    const engine = engineFor([task('a'), task('b')]);
    const decisions = drive(engine);
    expect(decisions.filter((d: Decision) => d.kind === 'finish')).toHaveLength(1);
  });
});

describe('explain', () => {
  it('says why a task waits, runs or ended', () => {
    const engine = engineFor([task('a'), task('b'), task('join', ['a', 'b'])]);
    expect(engine.explain('join')).toBe('waiting: the run has not started');
    engine.start(0);
    expect(engine.explain('a')).toBe('scheduled: try 1 of 1; waiting for the executor to accept it');
    engine.queued(key('a'), 1);
    expect(engine.explain('a')).toBe('queued: try 1 of 1; waiting for a worker');
    engine.running(key('a'), 2);
    expect(engine.explain('a')).toBe('running: try 1 of 1');
    engine.complete(key('a'), ok(), 3);
    expect(engine.explain('join')).toBe('waiting: 1 of 2 upstreams done; rule all_success');
    expect(engine.explain('a')).toBe('success after 1 try');
    engine.complete(key('b'), skippedOutcome(), 4);
    expect(engine.explain('join')).toBe('skipped: 1 upstream skipped (1 success, 1 skipped); rule all_success');
    expect(engine.explain('join', 0)).toContain('has no mapped instances');
    expect(thrown(() => engine.explain('nope')).code).toBe('UNKNOWN_TASK');
  });
});

describe('bad events', () => {
  it('throws ENGINE_BAD_EVENT and leaves the run intact', () => {
    const engine = engineFor([task('a'), task('b', ['a'], { retry: retries(1) })]);
    engine.start(0);
    const bad = (fn: () => unknown) => expect(thrown(fn).code).toBe('ENGINE_BAD_EVENT');
    bad(() => engine.complete(key('ghost'), ok(), 1));
    bad(() => engine.complete(key('a', 0), ok(), 1));
    bad(() => engine.complete(key('b'), ok(), 1)); // not started
    bad(() => engine.retryDue(key('a'), 1)); // not up_for_retry
    bad(() => engine.complete(key('a'), { status: 'exploded' } as never, 1));
    engine.complete(key('a'), ok(), 1);
    const duplicate = thrown(() => engine.complete(key('a'), ok(), 2));
    expect(duplicate.message).toContain('which is success (a duplicate or late event?)');
    bad(() => engine.queued(key('a'), 2));
    bad(() => engine.running(key('a'), 2));
    expect(finishOf(engine.complete(key('b'), ok(), 3))?.state).toBe('success');
  });

  it('ignores repeated and out-of-order queued/running reports', () => {
    const engine = engineFor([task('a')]);
    engine.start(0);
    engine.running(key('a'), 1);
    engine.queued(key('a'), 2);
    engine.running(key('a'), 3);
    expect(engine.instance(key('a'))?.state).toBe('running');
  });
});
