// Regression (issue #9): a mapped instance that skips itself contributes nothing to its task's
// aggregate output. The coordinator used to put a placeholder symbol in the list, the Redis store
// refused it (STORE_NOT_SERIALIZABLE), the run's `done` rejected and the run stayed `running`.
import { LocalExecutor } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  defineDag,
  RedisStateStore,
  RunCoordinator,
} from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';

describe('a mapped task whose instance skips itself, through the Redis store', () => {
  const redis = useRedisServer();

  it('ends the run in success with the succeeded instances in the aggregate output', async () => {
    const dag = defineDag({ id: 'mapped_skip' });
    const list = dag.task('list', { run: () => [1, 2, 3] });
    const keep = dag.map('keep', {
      upstream: [list],
      over: { n: list },
      run: ({ item }) => {
        if (item.n === 2) throw Object.assign(new Error('two is not wanted'), { name: 'TaskSkipped' });
        return item.n * 10;
      },
    });
    // Each instance counts in the rule (ADR 005, as in Airflow): all_success would skip `sum` on the
    // skipped instance; none_failed runs it once every instance is done, over the aggregate output.
    dag.task('sum', {
      upstream: [keep],
      triggerRule: 'none_failed',
      run: ({ inputs }) => inputs.keep.reduce((a, b) => a + b, 0),
    });
    const store = await RedisStateStore.connect({ url: redis.url, namespace: redis.namespace('mapped-skip') });
    const executor = new LocalExecutor({
      capacity: { cpu: 4, memoryMb: 4096, gpu: 0, custom: {} },
      invoke: createTaskInvoker({ resolveDag: () => dag.spec, store, operators: createOperatorRegistry() }),
    });
    const coordinator = new RunCoordinator({ store, executor });
    try {
      const run = await (await coordinator.startRun(dag.spec)).done;
      expect(run.state).toBe('success');
      expect((await store.getRun(run.runId))?.state).toBe('success');
      expect((await store.getTaskInstance(run.runId, 'keep', 1))?.state).toBe('skipped');
      expect((await store.getTaskInstance(run.runId, 'keep', -1))?.state).toBe('success');
      const outputs = await store.getOutputs(run.runId, [
        { taskId: 'keep', mapIndex: -1 },
        { taskId: 'sum', mapIndex: -1 },
      ]);
      expect(outputs.get('keep#-1')).toEqual([10, 30]);
      expect(outputs.get('sum#-1')).toBe(40);
    } finally {
      await coordinator.close();
      await store.close();
    }
  });
});
