// A coordinator that dies mid-run loses nothing: another one resumes the run from the store.
import { LocalExecutor } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  type DagSpec,
  defineDag,
  MemoryStateStore,
  RunCoordinator,
} from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';

function coordinatorFor(dag: DagSpec, store: MemoryStateStore) {
  const executor = new LocalExecutor({
    capacity: { cpu: 8, memoryMb: 8192, gpu: 0, custom: {} },
    invoke: createTaskInvoker({ resolveDag: () => dag, store, operators: createOperatorRegistry() }),
  });
  return new RunCoordinator({ store, executor });
}

describe('resuming a run after its coordinator died', () => {
  it('re-submits the attempt that was out and finishes the run with every output', async () => {
    let firstLife = true;
    const calls: string[] = [];
    const dag = defineDag({ id: 'resume_chain' });
    const a = dag.task('a', {
      run: () => {
        calls.push('a');
        return 2;
      },
    });
    const list = dag.task('list', {
      upstream: [a],
      run: ({ inputs }) => {
        calls.push('list');
        return [inputs.a, inputs.a + 1, inputs.a + 2];
      },
    });
    const square = dag.map('square', {
      upstream: [list],
      over: { n: list },
      run: ({ item }) => {
        calls.push(`square${item.n}`);
        // In the first life the last instance hangs: the process "dies" with it running.
        if (firstLife && item.n === 4) return new Promise<number>(() => {});
        return item.n * item.n;
      },
    });
    dag.task('sum', { upstream: [square], run: ({ inputs }) => inputs.square.reduce((x, y) => x + y, 0) });
    const store = new MemoryStateStore();
    const first = coordinatorFor(dag.spec, store);
    const handle = await first.startRun(dag.spec);
    await expect.poll(async () => (await store.getTaskInstance(handle.runId, 'square', 2))?.state).toBe('running');
    await expect.poll(async () => (await store.getTaskInstance(handle.runId, 'square', 1))?.state).toBe('success');

    firstLife = false; // the first coordinator is abandoned, as if its process had been killed
    const second = coordinatorFor(dag.spec, store);
    const resumed = await second.resumeRun(dag.spec, handle.runId);
    const run = await resumed.done;
    expect(run.state).toBe('success');
    expect((await store.getOutputs(run.runId, [{ taskId: 'sum', mapIndex: -1 }])).get('sum#-1')).toBe(4 + 9 + 16);
    // Finished work is not redone: a and list ran once; only the attempt that was out ran again.
    expect(calls.filter((c) => c === 'a')).toHaveLength(1);
    expect(calls.filter((c) => c === 'list')).toHaveLength(1);
    expect(calls.filter((c) => c === 'square2')).toHaveLength(1);
    expect(calls.filter((c) => c === 'square4')).toHaveLength(2);
    expect((await store.getTaskInstance(run.runId, 'square', 2))?.tryNumber).toBe(1);
  });

  it('returns a finished run as it is, without running anything', async () => {
    const dag = defineDag({ id: 'resume_done' });
    let calls = 0;
    dag.task('a', { run: () => ++calls });
    const store = new MemoryStateStore();
    const run = await (await coordinatorFor(dag.spec, store).startRun(dag.spec)).done;
    const again = await (await coordinatorFor(dag.spec, store).resumeRun(dag.spec, run.runId)).done;
    expect(again.state).toBe('success');
    expect(calls).toBe(1);
  });
});
