// The embedded path end to end: DSL or YAML → RunCoordinator → LocalExecutor → MemoryStateStore.
import { LocalExecutor } from '@batuta/orchestrator';
import {
  BatutaError,
  createOperatorRegistry,
  createTaskInvoker,
  type DagSpec,
  defineDag,
  ManualClock,
  MemoryStateStore,
  parseDagYaml,
  type ResourceSpec,
  RunCoordinator,
  type Transition,
} from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';

const operators = createOperatorRegistry();

function harness(dag: DagSpec, options: { capacity?: Partial<ResourceSpec>; clock?: ManualClock } = {}) {
  const store = new MemoryStateStore();
  const capacity: ResourceSpec = { cpu: 4, memoryMb: 4096, gpu: 0, custom: {}, ...options.capacity };
  const executor = new LocalExecutor({
    capacity,
    invoke: createTaskInvoker({ resolveDag: () => dag, store, operators }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const coordinator = new RunCoordinator({ store, executor, ...(options.clock ? { clock: options.clock } : {}) });
  return { store, coordinator };
}

async function states(store: MemoryStateStore, runId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const i of await store.getTaskInstances(runId))
    out[i.mapIndex >= 0 ? `${i.taskId}#${i.mapIndex}` : i.taskId] = i.state;
  return out;
}

describe('RunCoordinator with the local executor', () => {
  it('passes typed outputs downstream and stores them', async () => {
    const dag = defineDag({ id: 'pass_outputs' });
    const a = dag.task('a', { run: () => ({ n: 20 }) });
    const b = dag.task('b', { upstream: [a], run: ({ inputs }) => inputs.a.n + 1 });
    dag.task('c', { upstream: [a, b], run: ({ inputs }) => inputs.a.n * inputs.b });
    const { store, coordinator } = harness(dag.spec);
    const handle = await coordinator.startRun(dag.spec);
    const run = await handle.done;
    expect(run.state).toBe('success');
    const outputs = await store.getOutputs(run.runId, [{ taskId: 'c', mapIndex: -1 }]);
    expect(outputs.get('c#-1')).toBe(420);
    await coordinator.close();
  });

  it('skips the branch not taken and runs the join with none_failed_min_one_success', async () => {
    const dag = defineDag({ id: 'branch_join', params: { big: { type: 'boolean', default: false } } });
    const choose = dag.branch('choose', { run: ({ params }) => (params.big ? 'large' : 'small') });
    const small = dag.task('small', { upstream: [choose], run: () => 'S' });
    const large = dag.task('large', { upstream: [choose], run: () => 'L' });
    dag.task('join', {
      upstream: [small, large],
      triggerRule: 'none_failed_min_one_success',
      run: ({ inputs }) => inputs.small ?? inputs.large,
    });
    const { store, coordinator } = harness(dag.spec);
    const run = await (await coordinator.startRun(dag.spec, { conf: { big: true } })).done;
    expect(run.state).toBe('success');
    expect(await states(store, run.runId)).toMatchObject({
      choose: 'success',
      small: 'skipped',
      large: 'success',
      join: 'success',
    });
    expect((await store.getOutputs(run.runId, [{ taskId: 'join', mapIndex: -1 }])).get('join#-1')).toBe('L');
  });

  it('maps over an upstream list and hands the list of outputs to the reducer', async () => {
    const dag = defineDag({ id: 'map_reduce' });
    const list = dag.task('list', { run: () => [1, 2, 3, 4, 5] });
    const square = dag.map('square', { upstream: [list], over: { n: list }, run: ({ item }) => item.n * item.n });
    dag.task('sum', { upstream: [square], run: ({ inputs }) => inputs.square.reduce((a, b) => a + b, 0) });
    const { store, coordinator } = harness(dag.spec);
    const run = await (await coordinator.startRun(dag.spec)).done;
    expect(run.state).toBe('success');
    expect((await store.getOutputs(run.runId, [{ taskId: 'sum', mapIndex: -1 }])).get('sum#-1')).toBe(55);
    expect(await states(store, run.runId)).toMatchObject({
      'square#0': 'success',
      'square#4': 'success',
      square: 'success',
    });
  });

  it('retries a failing task after its delay on the injected clock, counting tries', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    let calls = 0;
    const dag = defineDag({ id: 'retry_clock' });
    dag.task('flaky', {
      retry: { retries: 2, delay: '5m' },
      run: () => {
        calls++;
        if (calls < 3) throw new Error(`boom ${calls}`);
        return 'ok';
      },
    });
    const { store, coordinator } = harness(dag.spec, { clock });
    const handle = await coordinator.startRun(dag.spec);
    for (let i = 0; i < 2; i++) {
      await expect
        .poll(async () => (await store.getTaskInstance(handle.runId, 'flaky', -1))?.state)
        .toBe('up_for_retry');
      const instance = await store.getTaskInstance(handle.runId, 'flaky', -1);
      expect(instance?.nextTryAtMs).toBe(clock.now() + 300_000);
      clock.advance(300_000);
    }
    const run = await handle.done;
    expect(run.state).toBe('success');
    expect((await store.getTaskInstance(run.runId, 'flaky', -1))?.tryNumber).toBe(3);
    expect(calls).toBe(3);
  });

  it('fails the run when a leaf fails and marks its downstream upstream_failed', async () => {
    const dag = defineDag({ id: 'fail_leaf' });
    const a = dag.task('a', {
      run: () => {
        throw Object.assign(new Error('no data'), { code: 'NO_DATA' });
      },
    });
    dag.task('b', { upstream: [a], run: () => 1 });
    const { store, coordinator } = harness(dag.spec);
    const run = await (await coordinator.startRun(dag.spec)).done;
    expect(run.state).toBe('failed');
    expect(await states(store, run.runId)).toEqual({ a: 'failed', b: 'upstream_failed' });
    expect((await store.getTaskInstance(run.runId, 'a', -1))?.error).toMatchObject({
      message: 'no data',
      code: 'NO_DATA',
    });
  });

  it('never uses more cpu than the capacity, whatever maxActiveTasks allows', async () => {
    let inUse = 0;
    let peak = 0;
    const dag = defineDag({ id: 'admission', maxActiveTasks: 32 });
    const root = dag.task('root', { run: () => Array.from({ length: 12 }, (_, i) => i) });
    dag.map('work', {
      upstream: [root],
      over: { i: root },
      resources: { cpu: 2 },
      run: async () => {
        inUse += 2;
        peak = Math.max(peak, inUse);
        await new Promise((r) => setImmediate(r));
        inUse -= 2;
      },
    });
    const { coordinator } = harness(dag.spec, { capacity: { cpu: 4 } });
    const run = await (await coordinator.startRun(dag.spec)).done;
    expect(run.state).toBe('success');
    expect(peak).toBe(4);
  });

  it('fires task and DAG callbacks', async () => {
    const seen: string[] = [];
    const dag = defineDag({ id: 'callbacks', callbacks: { onFailure: (e) => void seen.push(`dag:${e.state}`) } });
    const a = dag.task('a', {
      callbacks: { onSuccess: (e) => void seen.push(`a:${e.state}`) },
      run: () => 1,
    });
    dag.task('b', {
      upstream: [a],
      retry: { retries: 1, delay: 0 },
      callbacks: { onRetry: () => void seen.push('b:retry'), onFailure: () => void seen.push('b:failed') },
      run: () => {
        throw new Error('always');
      },
    });
    const { coordinator } = harness(dag.spec);
    const run = await (await coordinator.startRun(dag.spec)).done;
    expect(run.state).toBe('failed');
    await expect.poll(() => seen.length).toBe(4);
    expect(seen).toEqual(['a:success', 'b:retry', 'b:failed', 'dag:failed']);
  });

  it('runs a YAML DAG with shell and empty operators', async () => {
    const dag = parseDagYaml(
      `id: yaml_shell
params:
  who: { type: string, default: world }
tasks:
  hello:
    operator: shell
    with: { command: 'echo "hi $(echo $BATUTA_PARAMS)"' }
  fan:
    operator: shell
    upstream: [hello]
    map: { over: { n: [1, 2, 3] } }
    with: { command: 'echo $BATUTA_MAP_ITEM' }
  end:
    operator: empty
    upstream: [fan]
`,
      'inline.yaml',
      { operators },
    );
    const { store, coordinator } = harness(dag);
    const run = await (await coordinator.startRun(dag)).done;
    expect(run.state).toBe('success');
    const outputs = await store.getOutputs(run.runId, [
      { taskId: 'hello', mapIndex: -1 },
      { taskId: 'fan', mapIndex: -1 },
    ]);
    expect(outputs.get('hello#-1')).toBe('hi {"who":"world"}');
    expect(outputs.get('fan#-1')).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
  });

  it('rejects a conf that breaks the params schema before creating a run', async () => {
    const dag = defineDag({ id: 'params_check', params: { size: { type: 'integer', minimum: 1 } } });
    dag.task('a', { run: () => 1 });
    const { store, coordinator } = harness(dag.spec);
    await expect(coordinator.startRun(dag.spec, { conf: { size: 'big' } })).rejects.toThrow(
      /conf.size: expected integer/,
    );
    expect(await store.listRuns()).toEqual([]);
  });

  it('cancels a run: running attempts are aborted and the run fails', async () => {
    let aborted = false;
    const dag = defineDag({ id: 'cancel_me' });
    const slow = dag.task('slow', {
      run: ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    });
    dag.task('after', { upstream: [slow], run: () => 1 });
    const { store, coordinator } = harness(dag.spec);
    const handle = await coordinator.startRun(dag.spec);
    await expect.poll(async () => (await store.getTaskInstance(handle.runId, 'slow', -1))?.state).toBe('running');
    await coordinator.cancelRun(handle.runId, 'user asked');
    const run = await handle.done;
    expect(run.state).toBe('failed');
    expect(aborted).toBe(true);
    expect((await states(store, run.runId)).after).not.toBe('success');
  });

  it('records the run failed, instead of leaving it running, when the store refuses a step', async () => {
    const dag = defineDag({ id: 'refused_step' });
    const a = dag.task('a', { run: () => 1 });
    dag.task('b', { upstream: [a], run: () => 2 });
    const store = new (class extends MemoryStateStore {
      override async applyTransition(runId: string, transition: Transition): Promise<boolean> {
        if (transition.outputs?.some((o) => o.taskId === 'b')) {
          throw new BatutaError('STORE_BAD_WRITE', 'refused for the test');
        }
        return super.applyTransition(runId, transition);
      }
    })();
    const executor = new LocalExecutor({
      capacity: { cpu: 4, memoryMb: 4096, gpu: 0, custom: {} },
      invoke: createTaskInvoker({ resolveDag: () => dag.spec, store, operators }),
    });
    const coordinator = new RunCoordinator({ store, executor });
    const run = await (await coordinator.startRun(dag.spec)).done;
    expect(run.state).toBe('failed');
    expect(run.reason).toContain('refused for the test');
    expect((await store.getRun(run.runId))?.state).toBe('failed');
    expect(coordinator.activeRunIds()).toEqual([]);
    await coordinator.close();
  });
});
