// A dataset update is stored in the same transition as the success that produced it (issue #10, 8a):
// a store that fails every separate append, as a crash or a Redis error right after the write would,
// loses no update, and the run still ends in success.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { defineDag } from '../../src/dag/define-dag.js';
import type { Executor, ExecutorListener } from '../../src/executor.js';
import { datasetStream } from '../../src/runner/dataset-stream.js';
import { RunCoordinator } from '../../src/runner/run-coordinator.js';
import { MemoryStateStore } from '../../src/store/memory-store.js';

/** A memory store whose separate appendEvent always fails (the connection dropped after a write). */
class AppendFailingStore extends MemoryStateStore {
  override async appendEvent(): Promise<string> {
    throw new Error('connection lost after the transition');
  }
}

/** Runs every attempt at once, successfully, returning nothing. */
function instantExecutor(clock: ManualClock): Executor {
  let listener: ExecutorListener | undefined;
  return {
    start: async (l) => {
      listener = l;
    },
    submit: async (job) => {
      const at = clock.now();
      queueMicrotask(() =>
        listener?.finished({ job, outcome: { status: 'success', output: undefined }, startedMs: at, endedMs: at }),
      );
    },
    cancel: async () => 0,
    close: async () => {},
  };
}

describe('RunDriver dataset updates', () => {
  it('stores the dataset update in the transition that records the success, with no separate append', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const store = new AppendFailingStore();
    const dag = defineDag({ id: 'producer' });
    dag.task('publish', { run: () => undefined, outlets: ['s3://lake/sales'] });
    const coordinator = new RunCoordinator({ store, executor: instantExecutor(clock), clock });
    const handle = await coordinator.startRun(dag.spec);
    const record = await handle.done;
    expect(record.state).toBe('success');
    const events = await store.readEvents(datasetStream('s3://lake/sales'));
    expect(events.map(({ type, payload, atMs }) => ({ type, payload, atMs }))).toEqual([
      {
        type: 'dataset-updated',
        payload: { dataset: 's3://lake/sales', dagId: 'producer', runId: handle.runId, taskId: 'publish' },
        atMs: clock.now(),
      },
    ]);
  });
});
