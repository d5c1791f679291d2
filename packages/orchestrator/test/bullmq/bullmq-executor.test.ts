// The BullMQ executor and resource workers in one process, against a private redis-server: reports,
// idempotent submission, resource admission, priorities, timeouts, cancellation, slot pools.
import { TASK_CANCELLED, TASK_TIMEOUT, type TaskInvoker } from '@batuta/scheduler';
import { RedisServer } from '@batuta/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NO_CAPACITY_FITS } from '../../src/bullmq/attempt-outcomes.js';
import { BullmqExecutor } from '../../src/bullmq/bullmq-executor.js';
import { connectRedis } from '../../src/bullmq/connection.js';
import { poolQueue } from '../../src/bullmq/pool-queue.js';
import { ResourceWorker } from '../../src/bullmq/resource-worker.js';
import type { ResourceWorkerOptions } from '../../src/bullmq/resource-worker-options.js';
import type { WorkerPool } from '../../src/pools/worker-pool.js';
import { GatedBodies, makeJob, RecordingListener } from '../local/harness.js';
import { eventually, pool, spec, uniqueNamespace } from './harness.js';

let redis: RedisServer;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Setup {
  namespace: string;
  executor: BullmqExecutor;
  listener: RecordingListener;
  startWorker(options: Partial<ResourceWorkerOptions> & { invoke: TaskInvoker }): Promise<ResourceWorker>;
}

async function setup(pools: WorkerPool[] = [pool('cpu', { cpu: 4, memoryMb: 4096 })], slots = {}): Promise<Setup> {
  const namespace = uniqueNamespace();
  const slotPools = Object.entries(slots).map(([name, count]) => ({ name, slots: count as number }));
  const executor = new BullmqExecutor({ redisUrl: redis.url, namespace, pools, slotPools });
  closers.push(() => executor.close());
  const listener = new RecordingListener();
  await executor.start(listener);
  return {
    namespace,
    executor,
    listener,
    async startWorker(options) {
      const poolName = options.pool ?? pools[0]!.name;
      const worker = new ResourceWorker({
        redisUrl: redis.url,
        namespace,
        pool: poolName,
        capacity: pools.find((p) => p.name === poolName)!.capacity,
        slotPools,
        ...options,
      });
      closers.push(() => worker.close({ drain: false }));
      await worker.start();
      return worker;
    },
  };
}

describe('BullmqExecutor with ResourceWorkers', () => {
  it('runs a submitted attempt on a worker and reports started, then finished with its output', async () => {
    const { executor, listener, startWorker } = await setup();
    await startWorker({ invoke: async (job) => ({ echoed: job.taskId }) });
    await executor.submit(makeJob('hello'));
    const result = await listener.finishedOf('hello');
    expect(result.outcome).toEqual({ status: 'success', output: { echoed: 'hello' } });
    expect(result.worker).toContain(':cpu');
    expect(listener.events.map((event) => event.type)).toEqual(['started', 'finished']);
    expect(executor.inFlightCount()).toBe(0);
  });

  it('adds a resubmitted attempt once (the job id is run|task|mapIndex|try) and reports it once', async () => {
    const { executor, listener, namespace, startWorker } = await setup();
    const job = makeJob('once', { runId: 'manual__2024-01-01T00:00:00.000Z__ab' });
    await executor.submit(job);
    await executor.submit({ ...job });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const connection = connectRedis(redis.url);
    const queue = poolQueue(connection, namespace, 'cpu');
    closers.push(async () => {
      await queue.close();
      connection.disconnect();
    });
    const counts = await queue.getJobCounts('prioritized', 'waiting');
    expect((counts.prioritized ?? 0) + (counts.waiting ?? 0)).toBe(1);
    const [stored] = await queue.getJobs(['prioritized']);
    expect(stored?.id).toBe('manual__2024-01-01T00%3A00%3A00.000Z__ab|once|-1|1');
    expect(stored?.opts.attempts).toBe(1);
    await startWorker({ invoke: async () => 'ran' });
    await listener.finishedOf('once');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(listener.resultsOf('once')).toHaveLength(1);
  });

  it('gives a restarted executor the reports its predecessor read but never recorded, when it resubmits', async () => {
    const { executor, listener, namespace, startWorker } = await setup();
    await startWorker({ invoke: async (job) => `${job.taskId} output` });
    await executor.submit(makeJob('before_crash'));
    await listener.finishedOf('before_crash');
    await executor.close();
    // A new scheduler process: resubmitting the attempt must not wait forever for a job that already ran.
    const next = new BullmqExecutor({
      redisUrl: redis.url,
      namespace,
      pools: [pool('cpu', { cpu: 4, memoryMb: 4096 })],
    });
    closers.push(() => next.close());
    const nextListener = new RecordingListener();
    await next.start(nextListener);
    await next.submit(makeJob('before_crash'));
    expect((await nextListener.finishedOf('before_crash')).outcome).toEqual({
      status: 'success',
      output: 'before_crash output',
    });
  });

  it('reads at start the reports workers appended while no executor ran', async () => {
    const { executor, namespace, startWorker } = await setup();
    const bodies = new GatedBodies();
    await startWorker({ invoke: bodies.invoke });
    await executor.submit(makeJob('while_down'));
    await eventually(() => bodies.executing.has('while_down'), 'the body');
    await executor.close();
    bodies.succeed('while_down', 42);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = new BullmqExecutor({
      redisUrl: redis.url,
      namespace,
      pools: [pool('cpu', { cpu: 4, memoryMb: 4096 })],
    });
    closers.push(() => next.close());
    const nextListener = new RecordingListener();
    await next.start(nextListener);
    await next.submit(makeJob('while_down'));
    expect((await nextListener.finishedOf('while_down')).outcome).toEqual({ status: 'success', output: 42 });
    expect(nextListener.resultsOf('while_down')).toHaveLength(1);
  });

  it('delivers each report to the executor that submitted the attempt, with several schedulers at once', async () => {
    const { executor, listener, namespace, startWorker } = await setup();
    const other = new BullmqExecutor({
      redisUrl: redis.url,
      namespace,
      pools: [pool('cpu', { cpu: 4, memoryMb: 4096 })],
    });
    closers.push(() => other.close());
    const otherListener = new RecordingListener();
    await other.start(otherListener);
    await startWorker({ invoke: async (job) => job.runId });
    for (let i = 0; i < 10; i++) {
      await executor.submit(makeJob(`mine${i}`, { runId: 'run-a' }));
      await other.submit(makeJob(`theirs${i}`, { runId: 'run-b' }));
    }
    await listener.finishedCount(10);
    await otherListener.finishedCount(10);
    expect(listener.results().every((result) => result.job.runId === 'run-a')).toBe(true);
    expect(otherListener.results().every((result) => result.job.runId === 'run-b')).toBe(true);
  });

  it('finds in the job a report the stream no longer holds (the safety net)', async () => {
    const { executor, listener, namespace, startWorker } = await setup();
    await startWorker({ invoke: async () => 'kept in the job' });
    await executor.submit(makeJob('old'));
    await listener.finishedOf('old');
    await executor.close();
    // A scheduler that reads no past at all resubmits the attempt: only the job itself can tell it.
    const next = new BullmqExecutor({
      redisUrl: redis.url,
      namespace,
      pools: [pool('cpu', { cpu: 4, memoryMb: 4096 })],
      reportRetentionMs: 0,
      checkSilentAfterMs: 20,
    });
    closers.push(() => next.close());
    const nextListener = new RecordingListener();
    await next.start(nextListener);
    await next.submit(makeJob('old'));
    expect((await nextListener.finishedOf('old')).outcome).toEqual({ status: 'success', output: 'kept in the job' });
  });

  it('reports an attempt whose job vanished from the queue as JOB_LOST (retryable)', async () => {
    const namespace = uniqueNamespace();
    const executor = new BullmqExecutor({
      redisUrl: redis.url,
      namespace,
      pools: [pool('cpu', { cpu: 4 })],
      checkSilentAfterMs: 20,
    });
    closers.push(() => executor.close());
    const listener = new RecordingListener();
    await executor.start(listener);
    await executor.submit(makeJob('vanishing'));
    const queue = executor.queue('cpu');
    await eventually(async () => (await queue.getJobCounts('prioritized')).prioritized === 1, 'the job to be queued');
    await queue.remove('run|vanishing|-1|1');
    const result = await listener.finishedOf('vanishing');
    expect(result.outcome).toMatchObject({ status: 'failed', error: { code: 'JOB_LOST', retryable: true } });
  });

  it('never holds more cpu than the worker has: four 1-cpu tasks or one 4-cpu task, never both', async () => {
    const { executor, listener, startWorker } = await setup();
    const bodies = new GatedBodies({ capacityCpu: 4 });
    const handedBack: string[] = [];
    const worker = await startWorker({
      invoke: bodies.invoke,
      onEvent: (event) => {
        if (event.type === 'handedBack') handedBack.push(event.job.taskId);
      },
    });
    const small = ['s1', 's2', 's3', 's4', 's5', 's6'];
    for (const id of small.slice(0, 4)) await executor.submit(makeJob(id));
    await executor.submit(makeJob('big', { resources: { cpu: 4 } }));
    for (const id of small.slice(4)) await executor.submit(makeJob(id));
    await eventually(() => bodies.executing.size === 4, 'four small bodies');
    expect([...bodies.executing.keys()].sort()).toEqual(['s1', 's2', 's3', 's4']);
    // A release lets the worker fetch the big job, which does not fit: it goes back to the queue's head.
    bodies.succeed('s1');
    await eventually(() => handedBack.includes('big'), 'the big job to be handed back');
    // From then on the worker takes nothing until the big job fits: no small job overtakes it.
    for (const id of ['s2', 's3']) bodies.succeed(id);
    await listener.finishedCount(3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bodies.executing.has('big')).toBe(false);
    expect([...bodies.executing.keys()].filter((id) => id !== 's4')).toEqual([]);
    bodies.succeed('s4');
    await eventually(() => bodies.executing.has('big'), 'the big body');
    expect(bodies.executing.size).toBe(1);
    bodies.succeed('big');
    await eventually(() => bodies.executing.size === 2, 's5 and s6');
    bodies.succeed('s5');
    bodies.succeed('s6');
    await listener.finishedCount(7);
    expect(bodies.violations).toEqual([]);
    expect(bodies.peakCpu).toBe(4);
    expect(worker.peakInUse().cpu).toBe(4);
    expect(listener.startedIds().indexOf('big')).toBeLessThan(listener.startedIds().indexOf('s5'));
  });

  it('stays within capacity on two workers under bursts of mixed sizes, and runs every job', async () => {
    const { executor, listener, startWorker } = await setup();
    const inUse = new Map<string, number>();
    const peaks = new Map<string, number>();
    const sizes = [1, 4, 2, 1, 3, 1, 1, 4, 2, 2, 1, 3, 4, 1, 1, 2, 1, 4, 1, 1, 3, 1, 2, 4];
    const invokeOn =
      (worker: string): TaskInvoker =>
      async (job) => {
        const used = (inUse.get(worker) ?? 0) + job.resources.cpu;
        inUse.set(worker, used);
        peaks.set(worker, Math.max(peaks.get(worker) ?? 0, used));
        await new Promise((resolve) => setTimeout(resolve, 2 + (job.mapIndex % 5) * 3));
        inUse.set(worker, (inUse.get(worker) ?? 0) - job.resources.cpu);
        return job.mapIndex;
      };
    await startWorker({ invoke: invokeOn('A'), name: 'A' });
    await startWorker({ invoke: invokeOn('B'), name: 'B' });
    for (const [index, cpu] of sizes.entries()) {
      await executor.submit(makeJob(`job${index}`, { mapIndex: index, resources: { cpu } }));
    }
    await listener.finishedCount(sizes.length);
    expect(listener.results().every((result) => result.outcome.status === 'success')).toBe(true);
    expect(Math.max(...peaks.values())).toBeLessThanOrEqual(4);
  });

  it('wakes an idle worker at once for a job a busy worker handed back', async () => {
    const { executor, listener, startWorker } = await setup();
    const bodies = new GatedBodies();
    // Idle workers block for a minute between asks: only a wake-up can get the job to B in time.
    await startWorker({ invoke: bodies.invoke, name: 'A', idleBlockSeconds: 60 });
    await executor.submit(makeJob('half', { resources: { cpu: 2 } }));
    await eventually(() => bodies.executing.has('half'), 'the half-size body on A');
    await startWorker({ invoke: bodies.invoke, name: 'B', idleBlockSeconds: 60 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // both block now, A first
    await executor.submit(makeJob('whole', { resources: { cpu: 4 } }));
    await eventually(() => bodies.executing.has('whole'), 'the whole-worker body', 10_000);
    bodies.succeed('whole');
    bodies.succeed('half');
    expect((await listener.finishedOf('whole')).worker).toBe('B');
    expect((await listener.finishedOf('half')).worker).toBe('A');
  });

  it('starts higher priority weights first', async () => {
    const { executor, listener, startWorker } = await setup([pool('one', { cpu: 1 })]);
    const weights: Record<string, number> = { low: 1, high: 50, middle: 10, first_low: 1 };
    const weight = (id: string) => weights[id] ?? 0;
    await executor.submit(makeJob('first_low', { priorityWeight: weight('first_low') }));
    for (const id of ['low', 'high', 'middle']) await executor.submit(makeJob(id, { priorityWeight: weight(id) }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await startWorker({ invoke: async () => undefined });
    await listener.finishedCount(4);
    expect(listener.startedIds()).toEqual(['high', 'middle', 'first_low', 'low']);
  });

  it('aborts an attempt at its timeout, reports TASK_TIMEOUT (retryable), and holds its cpu until the body settles', async () => {
    const { executor, listener, startWorker } = await setup([pool('one', { cpu: 1 })]);
    const bodies = new GatedBodies({ capacityCpu: 1 });
    let aborted: unknown;
    const worker = await startWorker({
      invoke: (job, signal, report) => {
        signal.addEventListener('abort', () => {
          aborted = signal.reason;
        });
        return bodies.invoke(job, signal, report);
      },
    });
    await executor.submit(makeJob('slow', { timeoutMs: 100 }));
    await executor.submit(makeJob('next'));
    const result = await listener.finishedOf('slow');
    expect(result.outcome).toMatchObject({ status: 'failed', error: { code: TASK_TIMEOUT, retryable: true } });
    expect((aborted as { code?: string }).code).toBe(TASK_TIMEOUT);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bodies.executing.has('next')).toBe(false);
    expect(worker.inUse().cpu).toBe(1);
    bodies.succeed('slow', 'too late');
    await eventually(() => bodies.executing.has('next'), 'the next body');
    bodies.succeed('next');
    await listener.finishedOf('next');
    expect(listener.resultsOf('slow')).toHaveLength(1);
    expect(bodies.violations).toEqual([]);
  });

  it('cancels a run: waiting attempts are removed and running ones aborted, each reported TASK_CANCELLED once', async () => {
    const { executor, listener, startWorker } = await setup([pool('one', { cpu: 1 })]);
    const bodies = new GatedBodies({ honourSignal: true });
    await startWorker({ invoke: bodies.invoke });
    await executor.submit(makeJob('running', { runId: 'r1' }));
    await executor.submit(makeJob('waiting', { runId: 'r1' }));
    await executor.submit(makeJob('other', { runId: 'r2' }));
    await eventually(() => bodies.executing.has('running'), 'the running body');
    const cancelled = await executor.cancel({ runId: 'r1' }, 'user asked');
    expect(cancelled).toBe(2);
    for (const id of ['running', 'waiting']) {
      const [result] = listener.resultsOf(id);
      expect(result?.outcome).toMatchObject({ status: 'failed', error: { code: TASK_CANCELLED, retryable: false } });
    }
    await eventually(() => bodies.executing.has('other'), 'the other run’s body');
    expect(bodies.signals.get('running')?.aborted).toBe(true);
    bodies.succeed('other');
    await listener.finishedOf('other');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(listener.resultsOf('running')).toHaveLength(1);
    expect(listener.resultsOf('waiting')).toHaveLength(1);
    expect(bodies.executing.has('waiting')).toBe(false);
  });

  it('refuses at submit a task no pool fits, naming the pools', async () => {
    const { executor } = await setup([pool('small', { cpu: 2 })]);
    await expect(executor.submit(makeJob('huge', { resources: { cpu: 8 } }))).rejects.toMatchObject({
      code: 'NO_POOL_FITS',
      message: expect.stringContaining('small offers cpu=2'),
    });
  });

  it('fails (not retryable) a job bigger than the worker that fetched it', async () => {
    const { executor, listener, startWorker } = await setup([pool('cpu', { cpu: 8 })]);
    await startWorker({ capacity: spec({ cpu: 2 }), invoke: async () => undefined });
    await executor.submit(makeJob('wide', { resources: { cpu: 4 } }));
    const result = await listener.finishedOf('wide');
    expect(result.outcome).toMatchObject({ status: 'failed', error: { code: NO_CAPACITY_FITS, retryable: false } });
  });

  it('caps a slot pool across workers: never more running tasks holding db slots than it has', async () => {
    const { executor, listener, startWorker } = await setup([pool('cpu', { cpu: 4 })], { db: 2 });
    let holding = 0;
    let peak = 0;
    const bodies = new GatedBodies();
    const invoke: TaskInvoker = async (job, signal, report) => {
      const usesDb = (job.resources.custom.db ?? 0) > 0;
      if (usesDb) peak = Math.max(peak, ++holding);
      try {
        return await bodies.invoke(job, signal, report);
      } finally {
        if (usesDb) holding--;
      }
    };
    await startWorker({ invoke, slotRetryMs: 20 });
    await startWorker({ invoke, slotRetryMs: 20 });
    const ids = ['d1', 'd2', 'd3', 'd4', 'd5'];
    for (const id of ids) await executor.submit(makeJob(id, { resources: { cpu: 1, custom: { db: 1 } } }));
    await executor.submit(makeJob('free', { resources: { cpu: 1 } }));
    await eventually(() => bodies.executing.size === 3, 'two db tasks and the free one');
    expect(bodies.executing.has('free')).toBe(true);
    for (let done = 0; done < ids.length; done++) {
      const running = [...bodies.executing.keys()].find((id) => id !== 'free');
      if (!running) {
        await eventually(() => [...bodies.executing.keys()].some((id) => id !== 'free'), 'a db task');
        done--;
        continue;
      }
      bodies.succeed(running);
      await listener.finishedOf(running);
    }
    bodies.succeed('free');
    await listener.finishedCount(6);
    expect(peak).toBe(2);
  });
});
