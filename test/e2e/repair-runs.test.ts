// Repairing runs with several schedulers on a real Redis and real BullMQ workers: a clear or mark travels
// the control stream and is applied once, by the run's lease holder or, for an ended run, by the live
// scheduler that wins its lease (also when the scheduler that drove the run was killed).
import { randomUUID } from 'node:crypto';
import { BullmqExecutor, ResourceWorker, type WorkerPool } from '@batuta/orchestrator';
import {
  createOperatorRegistry,
  createTaskInvoker,
  type DagSpec,
  defineDag,
  RedisStateStore,
  type RepairRequest,
  RunCoordinator,
  SchedulerDaemon,
} from '@batuta/scheduler';
import {
  CONTROL_STREAM,
  datasetStream,
  REPAIR_DONE,
  REPAIR_REQUEST,
  type RepairDoneEvent,
} from '@batuta/scheduler/internals';
import { useRedisServer } from '@batuta/testing';
import { afterEach, describe, expect, it } from 'vitest';

const redis = useRedisServer();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const POOL: WorkerPool = {
  name: 'default',
  capacity: { cpu: 8, memoryMb: 8192, gpu: 0, custom: {} },
  labels: {},
  minWorkers: 1,
  maxWorkers: 1,
};

interface Scheduler {
  daemon: SchedulerDaemon;
  /** As a killed process: the loop stops, nothing is released, no report reaches it any more. */
  kill(): Promise<void>;
}

async function startScheduler(namespace: string, dag: DagSpec, schedulerId: string): Promise<Scheduler> {
  const store = await RedisStateStore.connect({ url: redis.url, namespace });
  const executor = new BullmqExecutor({ redisUrl: redis.url, namespace, pools: [POOL] });
  const coordinator = new RunCoordinator({ store, executor });
  const daemon = new SchedulerDaemon({
    store,
    coordinator,
    dags: () => new Map([[dag.id, dag]]),
    schedulerId,
    pollMs: 50,
    leaseTtlMs: 1_500,
  });
  await daemon.start();
  let killed = false;
  closers.push(async () => {
    if (!killed) await daemon.stop();
    await coordinator.close();
    await store.close();
  });
  return {
    daemon,
    async kill() {
      killed = true;
      daemon.halt();
      await coordinator.close();
    },
  };
}

async function startWorker(namespace: string, dag: DagSpec): Promise<void> {
  const store = await RedisStateStore.connect({ url: redis.url, namespace });
  const worker = new ResourceWorker({
    redisUrl: redis.url,
    namespace,
    pool: POOL.name,
    capacity: POOL.capacity,
    invoke: createTaskInvoker({ resolveDag: () => dag, store, operators: createOperatorRegistry() }),
  });
  await worker.start();
  closers.push(async () => {
    await worker.close({ drain: false });
    await store.close();
  });
}

async function openStore(namespace: string): Promise<RedisStateStore> {
  const store = await RedisStateStore.connect({ url: redis.url, namespace });
  closers.push(() => store.close());
  return store;
}

/** Queues a manual run, as `batuta dags trigger` does; a scheduler starts it. */
async function queueRun(store: RedisStateStore, dag: DagSpec): Promise<string> {
  const runId = `manual__${randomUUID().slice(0, 8)}__${dag.id}`;
  const now = Date.now();
  await store.createRun({
    runId,
    dagId: dag.id,
    kind: 'manual',
    state: 'queued',
    logicalDateMs: now,
    conf: {},
    createdMs: now,
  });
  return runId;
}

/** Sends a repair as `batuta tasks clear|mark` does; returns its request id. */
async function requestRepair(store: RedisStateStore, runId: string, request: RepairRequest): Promise<string> {
  const requestId = randomUUID();
  await store.appendEvent(CONTROL_STREAM, REPAIR_REQUEST, { requestId, runId, request }, Date.now());
  return requestId;
}

async function acks(store: RedisStateStore, requestId: string): Promise<RepairDoneEvent[]> {
  return (await store.readEvents(CONTROL_STREAM))
    .filter((event) => event.type === REPAIR_DONE)
    .map((event) => event.payload as RepairDoneEvent)
    .filter((done) => done.requestId === requestId);
}

async function grid(store: RedisStateStore, runId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const i of await store.getTaskInstances(runId)) out[`${i.taskId}#${i.mapIndex}`] = `${i.state}/${i.tryNumber}`;
  return out;
}

const runState = (store: RedisStateStore, runId: string) => async () => (await store.getRun(runId))?.state;

describe('repairing runs with two schedulers on Redis and BullMQ', () => {
  it('tasks clear --downstream on a failed run: one scheduler applies it, the cleared tasks rerun with their upstream outputs, the run ends success', async () => {
    const namespace = redis.namespace('clear');
    let transformFails = true;
    const seenInputs: unknown[] = [];
    const etl = defineDag({ id: 'repair_etl' });
    const extract = etl.task('extract', { run: () => ({ rows: 3 }) });
    const transform = etl.task('transform', {
      upstream: [extract],
      outlets: ['ds://repair/transformed'],
      run: ({ inputs }) => {
        seenInputs.push(inputs.extract);
        if (transformFails) throw new Error('bad batch');
        return { rows: (inputs.extract as { rows: number }).rows * 2 };
      },
    });
    etl.task('load', { upstream: [transform], run: ({ inputs }) => inputs.transform });
    etl.task('report', { upstream: [transform], run: () => 'ok' });
    const dag = etl.spec;
    const store = await openStore(namespace);
    await startScheduler(namespace, dag, 'a');
    await startScheduler(namespace, dag, 'b');
    await startWorker(namespace, dag);
    const runId = await queueRun(store, dag);
    await expect.poll(runState(store, runId), { timeout: 20_000 }).toBe('failed');
    expect(await grid(store, runId)).toEqual({
      'extract#-1': 'success/1',
      'transform#-1': 'failed/1',
      'load#-1': 'upstream_failed/0',
      'report#-1': 'upstream_failed/0',
    });

    transformFails = false;
    const requestId = await requestRepair(store, runId, { action: 'clear', taskIds: ['transform'], downstream: true });
    await expect.poll(runState(store, runId), { timeout: 20_000 }).toBe('success');
    expect(await grid(store, runId)).toEqual({
      'extract#-1': 'success/1',
      'transform#-1': 'success/2',
      'load#-1': 'success/1',
      'report#-1': 'success/1',
    });
    // The rerun read extract's output, which the clear left in place.
    expect(seenInputs).toEqual([{ rows: 3 }, { rows: 3 }]);
    const outputs = await store.getOutputs(runId, [{ taskId: 'load', mapIndex: -1 }]);
    expect(outputs.get('load#-1')).toEqual({ rows: 6 });
    // Applied once, by one of the two.
    await expect.poll(async () => (await acks(store, requestId)).length).toBe(1);
    const [ack] = await acks(store, requestId);
    expect(ack).toMatchObject({ applied: true, changes: 3 });
    expect(['a', 'b']).toContain(ack!.schedulerId);
    // The successful rerun published its dataset (the failed first try did not).
    expect(await store.readEvents(datasetStream('ds://repair/transformed'))).toHaveLength(1);
  }, 60_000);

  it('clears an ended run whose scheduler was killed: the live scheduler takes the run up again', async () => {
    const namespace = redis.namespace('adopt');
    let fails = true;
    const chain = defineDag({ id: 'repair_adopt' });
    const first = chain.task('first', { run: () => 1 });
    chain.task('second', {
      upstream: [first],
      run: () => {
        if (fails) throw new Error('not yet');
        return 2;
      },
    });
    const dag = chain.spec;
    const store = await openStore(namespace);
    const a = await startScheduler(namespace, dag, 'a');
    await startWorker(namespace, dag);
    const runId = await queueRun(store, dag);
    await expect.poll(runState(store, runId), { timeout: 20_000 }).toBe('failed');
    await a.kill(); // its leases are not released: they lapse
    await startScheduler(namespace, dag, 'b');

    fails = false;
    const requestId = await requestRepair(store, runId, { action: 'clear', taskIds: ['second'] });
    await expect.poll(runState(store, runId), { timeout: 20_000 }).toBe('success');
    const [ack] = await acks(store, requestId);
    expect(ack).toMatchObject({ schedulerId: 'b', applied: true, changes: 1 });
    expect(await grid(store, runId)).toEqual({ 'first#-1': 'success/1', 'second#-1': 'success/2' });
  }, 60_000);

  it('tasks mark --downstream on a running run: the running attempt stops, nothing else runs, the run ends', async () => {
    const namespace = redis.namespace('mark');
    let ran = 0;
    const slow = defineDag({ id: 'repair_mark' });
    const wait = slow.task('wait', {
      run: ({ signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
        }),
    });
    slow.task('after', {
      upstream: [wait],
      run: () => {
        ran++;
        return 'ran';
      },
    });
    const dag = slow.spec;
    const store = await openStore(namespace);
    await startScheduler(namespace, dag, 'a');
    await startScheduler(namespace, dag, 'b');
    await startWorker(namespace, dag);
    const runId = await queueRun(store, dag);
    await expect
      .poll(async () => (await store.getTaskInstance(runId, 'wait', -1))?.state, { timeout: 20_000 })
      .toBe('running');
    const requestId = await requestRepair(store, runId, {
      action: 'mark',
      taskIds: ['wait'],
      state: 'success',
      downstream: true,
    });
    await expect.poll(runState(store, runId), { timeout: 20_000 }).toBe('success');
    expect(await grid(store, runId)).toEqual({ 'wait#-1': 'success/1', 'after#-1': 'success/0' });
    expect(ran).toBe(0);
    await expect.poll(async () => (await acks(store, requestId)).length).toBe(1);
  }, 60_000);

  it('refuses an unknown task id: the scheduler acknowledges with UNKNOWN_TASK and the run is untouched', async () => {
    const namespace = redis.namespace('unknown');
    const one = defineDag({ id: 'repair_unknown' });
    one.task('only', { run: () => 1 });
    const dag = one.spec;
    const store = await openStore(namespace);
    await startScheduler(namespace, dag, 'a');
    await startWorker(namespace, dag);
    const runId = await queueRun(store, dag);
    await expect.poll(runState(store, runId), { timeout: 20_000 }).toBe('success');
    const requestId = await requestRepair(store, runId, { action: 'clear', taskIds: ['nope'] });
    await expect.poll(async () => (await acks(store, requestId)).length, { timeout: 10_000 }).toBe(1);
    const [ack] = await acks(store, requestId);
    expect(ack?.error?.code).toBe('UNKNOWN_TASK');
    expect((await store.getRun(runId))?.state).toBe('success');
  }, 60_000);

  it('clears a mapped task of a running run: its running instance stops and every map index reruns as try 2', async () => {
    const namespace = redis.namespace('mapped');
    let hang = true;
    const fan = defineDag({ id: 'repair_mapped' });
    const list = fan.task('list', { run: () => [1, 2, 3] });
    const each = fan.map('each', {
      upstream: [list],
      over: { n: list },
      run: ({ item, signal }) => {
        if (hang && item.n === 2) {
          return new Promise<number>((_resolve, reject) => {
            signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
          });
        }
        return item.n * 10;
      },
    });
    fan.task('sum', { upstream: [each], run: ({ inputs }) => inputs.each.reduce((x, y) => x + y, 0) });
    const dag = fan.spec;
    const store = await openStore(namespace);
    await startScheduler(namespace, dag, 'a');
    await startScheduler(namespace, dag, 'b');
    await startWorker(namespace, dag);
    const runId = await queueRun(store, dag);
    await expect
      .poll(async () => (await store.getTaskInstance(runId, 'each', 1))?.state, { timeout: 20_000 })
      .toBe('running');
    hang = false;
    const requestId = await requestRepair(store, runId, { action: 'clear', taskIds: ['each'] });
    await expect.poll(runState(store, runId), { timeout: 20_000 }).toBe('success');
    const [ack] = await acks(store, requestId);
    expect(ack).toMatchObject({ applied: true, changes: 4 });
    expect(await grid(store, runId)).toMatchObject({
      'list#-1': 'success/1',
      'each#0': 'success/2',
      'each#1': 'success/2',
      'each#2': 'success/2',
      'sum#-1': 'success/1',
    });
    const outputs = await store.getOutputs(runId, [{ taskId: 'sum', mapIndex: -1 }]);
    expect(outputs.get('sum#-1')).toBe(60);
  }, 60_000);

  it('tasks mark success of a mapped task: its aggregate is written with null for the instance that never ended, and the downstream reads it', async () => {
    const namespace = redis.namespace('mark-mapped');
    const seen: unknown[] = [];
    const fan = defineDag({ id: 'repair_mark_mapped' });
    const list = fan.task('list', { run: () => [1, 2, 3] });
    const each = fan.map('each', {
      upstream: [list],
      over: { n: list },
      run: ({ item, signal }) => {
        if (item.n === 2) {
          return new Promise<number>((_resolve, reject) => {
            signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
          });
        }
        return item.n * 10;
      },
    });
    fan.task('collect', {
      upstream: [each],
      run: ({ inputs }) => {
        seen.push(inputs.each);
        return inputs.each;
      },
    });
    const dag = fan.spec;
    const store = await openStore(namespace);
    await startScheduler(namespace, dag, 'a');
    await startWorker(namespace, dag);
    const runId = await queueRun(store, dag);
    await expect
      .poll(async () => (await store.getTaskInstance(runId, 'each', 1))?.state, { timeout: 20_000 })
      .toBe('running');
    await requestRepair(store, runId, { action: 'mark', taskIds: ['each'], state: 'success' });
    await expect.poll(runState(store, runId), { timeout: 20_000 }).toBe('success');
    expect(seen).toEqual([[10, null, 30]]);
    const outputs = await store.getOutputs(runId, [{ taskId: 'each', mapIndex: -1 }]);
    expect(outputs.get('each#-1')).toEqual([10, null, 30]);
    expect(await grid(store, runId)).toMatchObject({ 'each#-1': 'success/0', 'collect#-1': 'success/1' });
  }, 60_000);

  it('tasks mark success of the last unfinished map index: the group completes and the downstream reads the aggregate', async () => {
    const namespace = redis.namespace('mark-index');
    const seen: unknown[] = [];
    const fan = defineDag({ id: 'repair_mark_index' });
    const list = fan.task('list', { run: () => ['a', 'b'] });
    const each = fan.map('each', {
      upstream: [list],
      over: { s: list },
      run: ({ item, signal }) => {
        if (item.s === 'a') {
          return new Promise<string>((_resolve, reject) => {
            signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true });
          });
        }
        return item.s.toUpperCase();
      },
    });
    fan.task('collect', {
      upstream: [each],
      run: ({ inputs }) => {
        seen.push(inputs.each);
        return null;
      },
    });
    const dag = fan.spec;
    const store = await openStore(namespace);
    await startScheduler(namespace, dag, 'a');
    await startWorker(namespace, dag);
    const runId = await queueRun(store, dag);
    await expect
      .poll(async () => (await store.getTaskInstance(runId, 'each', 1))?.state, { timeout: 20_000 })
      .toBe('success');
    await expect
      .poll(async () => (await store.getTaskInstance(runId, 'each', 0))?.state, { timeout: 20_000 })
      .toBe('running');
    const requestId = await requestRepair(store, runId, {
      action: 'mark',
      taskIds: ['each'],
      state: 'success',
      mapIndexes: [0],
    });
    await expect.poll(runState(store, runId), { timeout: 20_000 }).toBe('success');
    const [ack] = await acks(store, requestId);
    expect(ack).toMatchObject({ applied: true, changes: 1 });
    expect(seen).toEqual([[null, 'B']]);
    expect(await grid(store, runId)).toMatchObject({
      'each#-1': 'success/0',
      'each#0': 'success/1',
      'each#1': 'success/1',
      'collect#-1': 'success/1',
    });
  }, 60_000);
});
