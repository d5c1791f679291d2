// Faults, with real processes: a worker SIGKILLed mid-task (its attempt comes back failed, WORKER_LOST,
// and the retry runs elsewhere under the next try number), SIGTERM draining, and a Redis restart (AOF).
import { MemoryStateStore, RunCoordinator, type TaskInstanceRecord } from '@batuta/scheduler';
import { RedisServer } from '@batuta/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKER_LOST } from '../../src/bullmq/attempt-outcomes.js';
import { BullmqExecutor } from '../../src/bullmq/bullmq-executor.js';
import { ResourceWorker } from '../../src/bullmq/resource-worker.js';
import { RecordingListener } from '../local/harness.js';
import { ChildWorker } from './child-worker.js';
import { chainDag, testDag, testTask } from './dags.js';
import { eventually, pool, spec, uniqueNamespace } from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function redisServer(appendOnly = false): Promise<RedisServer> {
  const server = await RedisServer.start({ appendOnly });
  cleanups.push(() => server.stop());
  return server;
}

async function childWorker(config: Parameters<typeof ChildWorker.start>[0]): Promise<ChildWorker> {
  const worker = await ChildWorker.start(config);
  cleanups.push(() => worker.stop());
  return worker;
}

function coordinatorOn(redisUrl: string, namespace: string, capacityCpu = 2) {
  const executor = new BullmqExecutor({ redisUrl, namespace, pools: [pool('cpu', { cpu: capacityCpu })] });
  const store = new MemoryStateStore();
  const changes: TaskInstanceRecord[] = [];
  const coordinator = new RunCoordinator({
    store,
    executor,
    listener: { taskChanged: (_run, instance) => changes.push({ ...instance }) },
  });
  cleanups.push(() => coordinator.close());
  return { coordinator, store, changes };
}

describe('a worker killed mid-task', () => {
  it('comes back as a failed attempt (WORKER_LOST, retryable) and the retry runs on another worker as try 2', async () => {
    const redis = await redisServer();
    const namespace = uniqueNamespace('kill');
    const { coordinator, store, changes } = coordinatorOn(redis.url, namespace);
    const fast = { lockDurationMs: 1_000, stalledIntervalMs: 300 };
    const doomed = await childWorker({
      redisUrl: redis.url,
      namespace,
      pool: 'cpu',
      capacity: spec({ cpu: 2 }),
      name: 'doomed',
      ...fast,
    });
    const handle = await coordinator.startRun(testDag('killed', [testTask('hang_once')]));
    await doomed.waitFor((m) => m.type === 'body' && m.phase === 'start', 'the body to start on the doomed worker');
    doomed.kill('SIGKILL');
    await doomed.exited;

    const survivor = await childWorker({
      redisUrl: redis.url,
      namespace,
      pool: 'cpu',
      capacity: spec({ cpu: 2 }),
      name: 'survivor',
      ...fast,
    });
    const run = await handle.done;
    expect(run.state).toBe('success');

    const lost = changes.find((change) => change.state === 'up_for_retry');
    expect(lost?.tryNumber).toBe(1);
    expect(lost?.error).toMatchObject({ code: WORKER_LOST, retryable: true });
    const instance = await store.getTaskInstance(run.runId, 'hang_once', -1);
    expect(instance).toMatchObject({ state: 'success', tryNumber: 2, worker: 'survivor' });
    // Try 1 never ran again anywhere: the survivor ran try 2 only, once. (Its IPC messages may trail the
    // run's end: wait for the body's report before reading them.)
    await survivor.waitFor((m) => m.type === 'body' && m.phase === 'end', 'the survivor to report the body ended');
    expect(survivor.bodies('hang_once', 'start').map((body) => body.tryNumber)).toEqual([2]);
    expect(doomed.bodies('hang_once', 'end')).toEqual([]);
  });
});

describe('SIGTERM', () => {
  it('lets the running attempt finish, takes no new job, and exits 0', async () => {
    const redis = await redisServer();
    const namespace = uniqueNamespace('term');
    const executor = new BullmqExecutor({ redisUrl: redis.url, namespace, pools: [pool('cpu', { cpu: 1 })] });
    cleanups.push(() => executor.close());
    const listener = new RecordingListener();
    await executor.start(listener);
    const config = { redisUrl: redis.url, namespace, pool: 'cpu', capacity: spec({ cpu: 1 }) };
    const first = await childWorker({ ...config, name: 'first' });
    await executor.submit({ ...job('sleep400_a'), runId: 'r' });
    await executor.submit({ ...job('b'), runId: 'r' });
    await first.waitFor((m) => m.type === 'body' && m.taskId === 'sleep400_a', 'the first body');
    first.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect((await listener.finishedOf('sleep400_a')).outcome).toMatchObject({ status: 'success' });
    expect(first.bodies('b', 'start')).toEqual([]);

    const second = await childWorker({ ...config, name: 'second' });
    expect((await listener.finishedOf('b')).worker).toBe('second');
    expect(second.bodies('b', 'start')).toHaveLength(1);
  });

  it('hands back an attempt still running at the drain deadline; another worker runs it, same try, no failure', async () => {
    const redis = await redisServer();
    const namespace = uniqueNamespace('handback');
    const executor = new BullmqExecutor({ redisUrl: redis.url, namespace, pools: [pool('cpu', { cpu: 1 })] });
    cleanups.push(() => executor.close());
    const listener = new RecordingListener();
    await executor.start(listener);
    const config = { redisUrl: redis.url, namespace, pool: 'cpu', capacity: spec({ cpu: 1 }) };
    const first = await childWorker({ ...config, name: 'first', drainDeadlineMs: 200 });
    await executor.submit(job('hang_on_first'));
    await first.waitFor((m) => m.type === 'body' && m.taskId === 'hang_on_first', 'the body');
    first.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(listener.resultsOf('hang_on_first')).toEqual([]);

    // A fresh worker takes it from the queue, under the same try number (the attempt never ended).
    await childWorker({ ...config, name: 'second' });
    const result = await listener.finishedOf('hang_on_first');
    expect(result.job.tryNumber).toBe(1);
    expect(result.worker).toBe('second');
    expect(listener.resultsOf('hang_on_first')).toHaveLength(1);
  });
});

describe('a Redis restart (AOF on)', () => {
  it('is ridden out: clients reconnect and the run completes, every task succeeding once', async () => {
    const redis = await redisServer(true);
    const namespace = uniqueNamespace('restart');
    const { coordinator, store } = coordinatorOn(redis.url, namespace);
    const successes = new Map<string, number>();
    const errors: unknown[] = [];
    const worker = new ResourceWorker({
      redisUrl: redis.url,
      namespace,
      pool: 'cpu',
      capacity: spec({ cpu: 2 }),
      onEvent: (event) => {
        if (event.type === 'error') errors.push(event.error);
      },
      invoke: async (task) => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        successes.set(task.taskId, (successes.get(task.taskId) ?? 0) + 1);
        return task.taskId;
      },
    });
    cleanups.push(() => worker.close({ drain: false }));
    await worker.start();
    const ids = ['t1', 't2', 't3', 't4', 't5', 't6'];
    const handle = await coordinator.startRun(chainDag('restart', ids));
    await eventually(() => successes.has('t2'), 't2 to run');
    await redis.restart();
    const run = await handle.done;
    expect(run.state).toBe('success');
    expect(Object.fromEntries(successes)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
    const instances = await store.getTaskInstances(run.runId);
    expect(instances.every((instance) => instance.state === 'success')).toBe(true);
    // A generous deadline, not a speed check: on a loaded 2-core machine the restart and the clients'
    // reconnect back-off took past the 30 s default once.
  }, 90_000);
});

function job(taskId: string) {
  return {
    dagId: 'dag',
    runId: 'run',
    taskId,
    mapIndex: -1,
    tryNumber: 1,
    priorityWeight: 1,
    resources: spec({ cpu: 1 }),
  };
}
