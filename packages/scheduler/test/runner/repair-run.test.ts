// Repairing a run through the library API (RunCoordinator.clearTasks / clearRun / markTasks) against the
// memory store, with a scripted executor: Airflow's clear reruns the chosen instances in the same run as
// their next try, with their full retries; the untouched ones keep their state and try numbers.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import type { DagSpec } from '../../src/dag/model.js';
import { isBatutaError } from '../../src/errors.js';
import type { Outcome } from '../../src/run/types.js';
import { datasetStream } from '../../src/runner/dataset-stream.js';
import { RunCoordinator } from '../../src/runner/run-coordinator.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';
import { dag, retries, task } from '../run/helpers.js';
import { type Script, ScriptedExecutor } from './scripted-executor.js';

const ok = (output: unknown = null): Outcome => ({ status: 'success', output });
const fail = (message = 'boom'): Outcome => ({ status: 'failed', error: { message } });

/** extract → transform → load, transform → report. */
function etl(): DagSpec {
  return dag([
    task('extract'),
    task('transform', ['extract']),
    task('load', ['transform']),
    task('report', ['transform']),
  ]);
}

function setUp(script: Script) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const store = new MemoryStateStore();
  const executor = new ScriptedExecutor(clock, script);
  const coordinator = new RunCoordinator({ store, executor, clock });
  return { clock, store, executor, coordinator };
}

async function states(store: MemoryStateStore, runId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const i of await store.getTaskInstances(runId)) out[`${i.taskId}#${i.mapIndex}`] = `${i.state}/${i.tryNumber}`;
  return out;
}

/** Lets queued microtasks and driver loops run. */
async function settle(): Promise<void> {
  for (let k = 0; k < 20; k++) await new Promise((resolve) => setImmediate(resolve));
}

describe('RunCoordinator.clearTasks', () => {
  it('reruns the cleared tasks of a failed run in the same run; the others keep state and try numbers', async () => {
    let transformFails = true;
    const spec = etl();
    const { store, executor, coordinator } = setUp((job) =>
      job.taskId === 'transform' && transformFails ? fail() : ok({ from: job.taskId }),
    );
    const handle = await coordinator.startRun(spec);
    expect((await handle.done).state).toBe('failed');
    expect(await states(store, handle.runId)).toEqual({
      'extract#-1': 'success/1',
      'transform#-1': 'failed/1',
      'load#-1': 'upstream_failed/0',
      'report#-1': 'upstream_failed/0',
    });
    transformFails = false;
    const outcome = await coordinator.clearTasks(spec, handle.runId, ['transform'], { downstream: true });
    expect(outcome.applied).toBe(true);
    expect(outcome.plan.changes.map((c) => c.taskId)).toEqual(['transform', 'load', 'report']);
    const final = await outcome.done!;
    expect(final.state).toBe('success');
    expect(final.endMs).toBeDefined();
    expect(await states(store, handle.runId)).toEqual({
      'extract#-1': 'success/1',
      'transform#-1': 'success/2',
      'load#-1': 'success/1',
      'report#-1': 'success/1',
    });
    expect(executor.tries('extract')).toEqual([1]);
    expect(executor.tries('transform')).toEqual([1, 2]);
  });

  it('gives a cleared task its full retries again, counting tries on (max_tries = try_number + retries)', async () => {
    const spec = dag([task('flaky', [], { retry: retries(1, { delayMs: 1_000 }) })]);
    let succeedFrom = 99;
    const { clock, store, executor, coordinator } = setUp((job) => (job.tryNumber >= succeedFrom ? ok() : fail()));
    const handle = await coordinator.startRun(spec);
    await settle();
    clock.advance(1_000);
    expect((await handle.done).state).toBe('failed');
    expect(executor.tries('flaky')).toEqual([1, 2]);
    succeedFrom = 4; // try 3 fails; try 4 is within the retries the clear gave back
    const outcome = await coordinator.clearTasks(spec, handle.runId, ['flaky']);
    await settle();
    clock.advance(1_000);
    expect((await outcome.done!).state).toBe('success');
    expect(executor.tries('flaky')).toEqual([1, 2, 3, 4]);
    expect(await store.getTaskInstance(handle.runId, 'flaky', -1)).toMatchObject({
      state: 'success',
      tryNumber: 4,
      triesBeforeClear: 2,
    });
    // Every try the driver ran is kept as it ended, through the retries and the clear (ADR 019).
    const tries = await store.getTaskTries(handle.runId, 'flaky', -1);
    expect(tries.map(({ tryNumber, state }) => `${tryNumber}:${state}`)).toEqual([
      '1:up_for_retry',
      '2:failed',
      '3:up_for_retry',
      '4:success',
    ]);
    expect(tries[0]!.error).toEqual({ message: 'boom' });
    expect(tries.every((entry) => entry.startMs !== undefined && entry.endMs !== undefined)).toBe(true);
  });

  it('clears a running run: the running attempt is stopped and its next try runs in the same run', async () => {
    const spec = etl();
    const { store, executor, coordinator } = setUp((job) =>
      job.taskId === 'transform' && job.tryNumber === 1 ? 'hold' : ok(),
    );
    const handle = await coordinator.startRun(spec);
    await settle();
    expect((await store.getTaskInstance(handle.runId, 'transform', -1))?.state).toBe('running');
    const outcome = await coordinator.clearTasks(spec, handle.runId, ['transform']);
    expect(outcome.plan.changes).toMatchObject([{ taskId: 'transform', from: 'running', stopAttempt: true }]);
    expect(executor.cancels).toContainEqual(expect.objectContaining({ taskId: 'transform', mapIndex: -1 }));
    const final = await handle.done;
    expect(final.state).toBe('success');
    expect(executor.tries('transform')).toEqual([1, 2]);
    expect(await states(store, handle.runId)).toMatchObject({ 'transform#-1': 'success/2', 'extract#-1': 'success/1' });
  });

  it('clears a mapped task: every map index reruns as its next try, and the join runs again', async () => {
    const spec = dag([
      task('extract'),
      task('each', ['extract'], { map: { over: { x: { fromTask: 'extract' } }, maxLength: 1024 } }),
      task('join', ['each']),
    ]);
    let firstRound = true;
    const { store, coordinator } = setUp((job) => {
      if (job.taskId === 'extract') return ok([10, 20, 30]);
      if (job.taskId === 'each') return firstRound && job.mapIndex === 1 ? fail() : ok(job.item?.x);
      return ok();
    });
    const handle = await coordinator.startRun(spec);
    expect((await handle.done).state).toBe('failed');
    firstRound = false;
    const outcome = await coordinator.clearTasks(spec, handle.runId, ['each'], { downstream: true });
    expect((await outcome.done!).state).toBe('success');
    expect(await states(store, handle.runId)).toEqual({
      'extract#-1': 'success/1',
      'each#-1': 'success/0',
      'each#0': 'success/2',
      'each#1': 'success/2',
      'each#2': 'success/2',
      'join#-1': 'success/1',
    });
    const outputs = await store.getOutputs(handle.runId, [{ taskId: 'each', mapIndex: -1 }]);
    expect(outputs.get('each#-1')).toEqual([10, 20, 30]);
  });

  it('clearRun --only-failed reruns the failed and upstream_failed instances only', async () => {
    let fails = true;
    const spec = etl();
    const { store, executor, coordinator } = setUp((job) => (job.taskId === 'transform' && fails ? fail() : ok()));
    const handle = await coordinator.startRun(spec);
    await handle.done;
    fails = false;
    const outcome = await coordinator.clearRun(spec, handle.runId, { onlyFailed: true });
    expect((await outcome.done!).state).toBe('success');
    expect(executor.tries('extract')).toEqual([1]);
    expect((await states(store, handle.runId))['extract#-1']).toBe('success/1');
  });

  it('with dryRun lists what would change and changes nothing', async () => {
    const spec = etl();
    const { store, coordinator } = setUp((job) => (job.taskId === 'transform' ? fail() : ok()));
    const handle = await coordinator.startRun(spec);
    await handle.done;
    const before = await states(store, handle.runId);
    const outcome = await coordinator.clearTasks(spec, handle.runId, ['transform'], { downstream: true, dryRun: true });
    expect(outcome.applied).toBe(false);
    expect(outcome.plan.changes.map((c) => `${c.taskId}:${c.from}→${c.to}`)).toEqual([
      'transform:failed→none',
      'load:upstream_failed→none',
      'report:upstream_failed→none',
    ]);
    expect(await states(store, handle.runId)).toEqual(before);
    expect((await store.getRun(handle.runId))?.state).toBe('failed');
  });

  it('refuses an unknown task id with UNKNOWN_TASK and an unknown run with UNKNOWN_RUN', async () => {
    const spec = etl();
    const { coordinator } = setUp(() => ok());
    const handle = await coordinator.startRun(spec);
    await handle.done;
    await expect(coordinator.clearTasks(spec, handle.runId, ['nope'])).rejects.toSatisfy((e) =>
      isBatutaError(e, 'UNKNOWN_TASK'),
    );
    await expect(coordinator.clearTasks(spec, 'no_such_run', ['extract'])).rejects.toSatisfy((e) =>
      isBatutaError(e, 'UNKNOWN_RUN'),
    );
  });
});

describe('RunCoordinator.markTasks', () => {
  it('mark success --downstream ends a failed run in success without running anything', async () => {
    const spec = etl();
    const { store, executor, coordinator } = setUp((job) => (job.taskId === 'transform' ? fail() : ok()));
    const handle = await coordinator.startRun(spec);
    await handle.done;
    const submittedBefore = executor.submitted.length;
    const outcome = await coordinator.markTasks(spec, handle.runId, ['transform'], 'success', { downstream: true });
    expect((await outcome.done!).state).toBe('success');
    expect(executor.submitted.length).toBe(submittedBefore);
    expect(await states(store, handle.runId)).toEqual({
      'extract#-1': 'success/1',
      'transform#-1': 'success/1',
      'load#-1': 'success/0',
      'report#-1': 'success/0',
    });
  });

  it('mark failed on a running task: downstreams left out become upstream_failed, as after a failure', async () => {
    const spec = etl();
    const { store, coordinator } = setUp((job) => (job.taskId === 'transform' ? 'hold' : ok()));
    const handle = await coordinator.startRun(spec);
    await settle();
    await coordinator.markTasks(spec, handle.runId, ['transform'], 'failed');
    expect((await handle.done).state).toBe('failed');
    expect(await states(store, handle.runId)).toMatchObject({
      'transform#-1': 'failed/1',
      'load#-1': 'upstream_failed/0',
      'report#-1': 'upstream_failed/0',
    });
  });
});

describe('RunCoordinator.markTasks on a mapped task: the aggregate output downstreams read', () => {
  /** extract → each (mapped over extract's [10, 20, 30]) → join; map index 1 hangs or fails as asked. */
  function fan(indexOne: 'hold' | 'fail') {
    const spec = dag([
      task('extract'),
      task('each', ['extract'], { map: { over: { x: { fromTask: 'extract' } }, maxLength: 1024 } }),
      task('join', ['each']),
    ]);
    const setup = setUp((job) => {
      if (job.taskId === 'extract') return ok([10, 20, 30]);
      if (job.taskId === 'each') {
        if (job.mapIndex !== 1) return ok((job.item?.x as number) * 2);
        return indexOne === 'hold' ? 'hold' : fail();
      }
      return ok('joined');
    });
    return { spec, ...setup };
  }

  const aggregate = async (store: MemoryStateStore, runId: string) =>
    (await store.getOutputs(runId, [{ taskId: 'each', mapIndex: -1 }])).get('each#-1');

  it('marking the whole task success writes its aggregate, null for the instance that produced nothing, and the join runs', async () => {
    const { spec, store, executor, coordinator } = fan('hold');
    const handle = await coordinator.startRun(spec);
    await settle();
    expect((await store.getTaskInstance(handle.runId, 'each', 1))?.state).toBe('running');
    const outcome = await coordinator.markTasks(spec, handle.runId, ['each'], 'success');
    expect(outcome.plan.aggregates).toHaveLength(1);
    expect((await handle.done).state).toBe('success');
    expect(executor.cancels).toContainEqual(expect.objectContaining({ taskId: 'each', mapIndex: 1 }));
    expect(await aggregate(store, handle.runId)).toEqual([20, null, 60]);
    expect(executor.tries('join')).toEqual([1]);
    expect(await states(store, handle.runId)).toMatchObject({
      'each#-1': 'success/0',
      'each#1': 'success/1',
      'join#-1': 'success/1',
    });
  });

  it('marking the last unfinished instance success completes the group: the aggregate is made as when it ends on its own', async () => {
    const { spec, store, executor, coordinator } = fan('hold');
    const handle = await coordinator.startRun(spec);
    await settle();
    expect(executor.tries('join')).toEqual([]);
    await coordinator.markTasks(spec, handle.runId, ['each'], 'success', { mapIndexes: [1] });
    expect((await handle.done).state).toBe('success');
    expect(await aggregate(store, handle.runId)).toEqual([20, null, 60]);
    expect(executor.tries('join')).toEqual([1]);
    expect((await store.getTaskInstance(handle.runId, 'each', -1))?.reason).toContain('3 of 3 mapped instances done');
  });

  it('marking a failed instance of an ended run success re-aggregates its parent as success', async () => {
    const { spec, store, coordinator } = fan('fail');
    const handle = await coordinator.startRun(spec);
    expect((await handle.done).state).toBe('failed');
    expect(await aggregate(store, handle.runId)).toBeUndefined();
    const outcome = await coordinator.markTasks(spec, handle.runId, ['each'], 'success', {
      mapIndexes: [1],
      downstream: true,
    });
    expect(outcome.plan.changes.map((c) => `${c.taskId}#${c.mapIndex}:${c.from}→${c.to}`)).toEqual([
      'each#-1:failed→running',
      'each#1:failed→success',
      'join#-1:upstream_failed→success',
    ]);
    expect((await outcome.done!).state).toBe('success');
    expect(await aggregate(store, handle.runId)).toEqual([20, null, 60]);
    expect((await states(store, handle.runId))['each#-1']).toBe('success/0');
  });

  it('an instance marked success after a failed rerun gives null, not the output of its earlier successful try', async () => {
    const spec = dag([
      task('extract'),
      task('each', ['extract'], { map: { over: { x: { fromTask: 'extract' } }, maxLength: 1024 } }),
      task('join', ['each']),
    ]);
    let round = 1;
    const { store, coordinator } = setUp((job) => {
      if (job.taskId === 'extract') return ok([10, 20, 30]);
      if (job.taskId === 'each') return round === 2 && job.mapIndex === 1 ? fail() : ok(`${job.mapIndex}@${round}`);
      return ok();
    });
    const handle = await coordinator.startRun(spec);
    expect((await handle.done).state).toBe('success');
    round = 2;
    const cleared = await coordinator.clearTasks(spec, handle.runId, ['each'], { downstream: true });
    expect((await cleared.done!).state).toBe('failed');
    const marked = await coordinator.markTasks(spec, handle.runId, ['each'], 'success', {
      mapIndexes: [1],
      downstream: true,
    });
    expect((await marked.done!).state).toBe('success');
    expect(await aggregate(store, handle.runId)).toEqual(['0@2', null, '2@2']);
  });

  it('a task mapped over a mapped task marked success maps over its aggregate', async () => {
    const spec = dag([
      task('extract'),
      task('each', ['extract'], { map: { over: { x: { fromTask: 'extract' } }, maxLength: 1024 } }),
      task('again', ['each'], { map: { over: { y: { fromTask: 'each' } }, maxLength: 1024 } }),
    ]);
    const { store, executor, coordinator } = setUp((job) => {
      if (job.taskId === 'extract') return ok([1, 2]);
      if (job.taskId === 'each') return job.mapIndex === 0 ? 'hold' : ok('two');
      return ok(job.item?.y ?? 'nothing');
    });
    const handle = await coordinator.startRun(spec);
    await settle();
    await coordinator.markTasks(spec, handle.runId, ['each'], 'success');
    expect((await handle.done).state).toBe('success');
    expect(executor.submitted.filter((job) => job.taskId === 'again').map((job) => job.item)).toEqual([
      { y: null },
      { y: 'two' },
    ]);
    expect(await store.getTaskInstance(handle.runId, 'again', 1)).toMatchObject({ state: 'success' });
  });

  it('refuses a map index the task does not have with UNKNOWN_MAP_INDEX', async () => {
    const { spec, coordinator } = fan('fail');
    const handle = await coordinator.startRun(spec);
    await handle.done;
    await expect(coordinator.markTasks(spec, handle.runId, ['each'], 'success', { mapIndexes: [3] })).rejects.toSatisfy(
      (e) => isBatutaError(e, 'UNKNOWN_MAP_INDEX'),
    );
  });
});

describe('dataset side effects of repairs', () => {
  it('a cleared task that succeeds again publishes its dataset again; a mark success publishes nothing', async () => {
    const spec = dag([
      task('produce', [], { outlets: ['ds://lake/table'] }),
      task('other', [], { outlets: ['ds://lake/other'] }),
    ]);
    const { store, coordinator } = setUp((job) => (job.taskId === 'other' ? fail() : ok()));
    const handle = await coordinator.startRun(spec);
    await handle.done;
    expect(await store.readEvents(datasetStream('ds://lake/table'))).toHaveLength(1);
    expect(await store.readEvents(datasetStream('ds://lake/other'))).toHaveLength(0);
    // Airflow: each successful run of a task with outlets is a dataset update, reruns included.
    const cleared = await coordinator.clearTasks(spec, handle.runId, ['produce']);
    await cleared.done;
    expect(await store.readEvents(datasetStream('ds://lake/table'))).toHaveLength(2);
    // Marking success runs nothing, so it produces no data: no update (Airflow 2's set_state does not either).
    const marked = await coordinator.markTasks(spec, handle.runId, ['other'], 'success');
    expect((await marked.done!).state).toBe('success');
    expect(await store.readEvents(datasetStream('ds://lake/other'))).toHaveLength(0);
  });
});
