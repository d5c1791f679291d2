// The decision applier is pure: decisions in, records and one step out. No store, no executor.
import { describe, expect, it } from 'vitest';
import type { DagSpec } from '../../src/dag/model.js';
import { RunEngine } from '../../src/run/engine.js';
import { compilePlan } from '../../src/run/plan.js';
import { applyDecisions, newRunStep, type RunBook, transitionOf } from '../../src/runner/decision-applier.js';
import { ReadyQueue } from '../../src/runner/ready-queue.js';
import { dag, retries, task } from '../run/helpers.js';

function bookFor(spec: DagSpec): { book: RunBook; engine: RunEngine } {
  const book: RunBook = {
    dag: spec,
    tasks: new Map(spec.tasks.map((t) => [t.id, t])),
    record: { runId: 'r1', dagId: spec.id, kind: 'manual', state: 'running', logicalDateMs: 0, conf: {}, createdMs: 0 },
    instances: new Map(),
    ready: new ReadyQueue(),
    inFlight: 0,
  };
  return { book, engine: new RunEngine(compilePlan(spec), { runId: 'r1' }) };
}

describe('applyDecisions', () => {
  it('queues the roots up to maxActiveTasks, highest priority first, and writes them in one transition', () => {
    const spec = {
      ...dag([task('low', [], { priorityWeight: 1 }), task('high', [], { priorityWeight: 9 }), task('mid')]),
      maxActiveTasks: 2,
    };
    const { book, engine } = bookFor(spec);
    const step = newRunStep();
    applyDecisions(book, engine, engine.start(0), step, 5);
    expect(step.toSubmit.map((job) => job.taskId)).toEqual(['high', 'low']);
    expect(book.inFlight).toBe(2);
    expect(book.ready.size).toBe(1);
    const { transition, runPatch } = transitionOf(book, step, 5);
    const states = Object.fromEntries(transition.instances!.map(({ record }) => [record.taskId, record.state]));
    expect(states).toEqual({ low: 'queued', high: 'queued', mid: 'scheduled' });
    expect(runPatch).toBeUndefined();
  });

  it("stores a mapped parent's aggregate output from the engine and publishes its outlets once", () => {
    const spec = dag([
      task('each', [], { map: { over: { x: { values: [1, 2] } }, maxLength: 1024 }, outlets: ['s3://out'] }),
    ]);
    const { book, engine } = bookFor(spec);
    applyDecisions(book, engine, engine.start(0), newRunStep(), 0);
    engine.complete({ taskId: 'each', mapIndex: 0 }, { status: 'success', output: 'a' }, 1);
    const step = newRunStep();
    const decisions = engine.complete({ taskId: 'each', mapIndex: 1 }, { status: 'skipped', reason: 'no' }, 2);
    applyDecisions(book, engine, decisions, step, 2);
    expect(step.outputs).toEqual([{ taskId: 'each', mapIndex: -1, value: ['a'] }]);
    expect(step.datasets).toEqual([{ dataset: 's3://out', taskId: 'each' }]);
    expect(step.finish).toMatchObject({ state: 'success' });
    expect(transitionOf(book, step, 3).runPatch).toMatchObject({ state: 'success', endMs: 3 });
    expect(step.toSubmit).toEqual([]);
  });

  it('arms a retry and fires onRetry and onFailure callbacks only for tasks that declare them', () => {
    const onRetry = () => {};
    const spec = dag([task('flaky', [], { retry: retries(1), callbacks: { onRetry } }), task('plain')]);
    const { book, engine } = bookFor(spec);
    applyDecisions(book, engine, engine.start(0), newRunStep(), 0);
    const step = newRunStep();
    const error = { message: 'boom' };
    applyDecisions(
      book,
      engine,
      engine.complete({ taskId: 'flaky', mapIndex: -1 }, { status: 'failed', error }, 10),
      step,
      10,
    );
    applyDecisions(
      book,
      engine,
      engine.complete({ taskId: 'plain', mapIndex: -1 }, { status: 'failed', error }, 10),
      step,
      10,
    );
    expect(step.retries).toEqual([{ key: { taskId: 'flaky', mapIndex: -1 }, atMs: 1010 }]);
    expect(step.callbacks.map((c) => [c.taskId, c.name, c.event.state])).toEqual([
      ['flaky', 'onRetry', 'up_for_retry'],
    ]);
    expect(book.instances.get('flaky#-1')).toMatchObject({ state: 'up_for_retry', nextTryAtMs: 1010 });
    expect(book.instances.get('plain#-1')).toMatchObject({ state: 'failed', endMs: 10 });
  });

  it("clears the previous try's start and end when the next try is scheduled, so no duration goes negative", () => {
    const spec = dag([task('flaky', [], { retry: retries(1) })]);
    const { book, engine } = bookFor(spec);
    applyDecisions(book, engine, engine.start(0), newRunStep(), 0);
    const record = book.instances.get('flaky#-1')!;
    // What the run driver records for try 1 from the executor's reports.
    record.startMs = 100;
    record.endMs = 200;
    const failedStep = newRunStep();
    const error = { message: 'boom' };
    applyDecisions(
      book,
      engine,
      engine.complete({ taskId: 'flaky', mapIndex: -1 }, { status: 'failed', error }, 200),
      failedStep,
      200,
    );
    expect(record).toMatchObject({ state: 'up_for_retry', startMs: 100, endMs: 200 });
    const retryStep = newRunStep();
    applyDecisions(book, engine, engine.retryDue({ taskId: 'flaky', mapIndex: -1 }, 1200), retryStep, 1200);
    expect(record.tryNumber).toBe(2);
    expect(record.startMs).toBeUndefined();
    expect(record.endMs).toBeUndefined();
    const written = transitionOf(book, retryStep, 1200).transition.instances!.find(
      ({ record: r }) => r.taskId === 'flaky',
    );
    expect(written?.record).not.toHaveProperty('endMs');
  });
});
