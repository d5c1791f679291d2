// Redis outages longer than the lock duration, with real processes: a task that finishes while Redis is
// down is reported success once Redis is back (ran once, the run with retries: 0 succeeds), and a worker
// killed during the outage is still reported WORKER_LOST after Redis returns (the executor does not wait
// out the grace for a worker whose alive key has expired).
import { MemoryStateStore, RunCoordinator, type TaskInstanceRecord } from '@batuta/scheduler';
import { RedisServer } from '@batuta/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKER_LOST } from '../../src/bullmq/attempt-outcomes.js';
import { BullmqExecutor } from '../../src/bullmq/bullmq-executor.js';
import { ResourceWorker } from '../../src/bullmq/resource-worker.js';
import { RecordingListener } from '../local/harness.js';
import { ChildWorker } from './child-worker.js';
import { testDag, testTask } from './dags.js';
import { eventually, pool, spec, uniqueNamespace } from './harness.js';

const cleanups: Array<() => Promise<void>> = [];
// Closing clients that are still reconnecting after an outage can take several seconds on a busy machine;
// a close that has not returned after 20 s is reported on stderr (seen twice under load in a full CI run,
// never alone) rather than failing the hook, so the tests' own assertions stay what decides.
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await within(cleanup(), 'a close after the test', 20_000).catch((error: unknown) => {
      if (String(error).includes('did not happen')) console.warn(`redis-outage.test.ts: ${String(error)}: ${cleanup}`);
    });
  }
}, 180_000);

/** Short locks so an outage of a few seconds outlasts them; alive keys short so a dead worker shows soon. */
const LOCK_MS = 2_000;
const OUTAGE_MS = 3 * LOCK_MS;
const fast = { lockDurationMs: LOCK_MS, stalledIntervalMs: 500, aliveTtlMs: 1_000 };

async function redisServer(): Promise<RedisServer> {
  const server = await RedisServer.start({ appendOnly: true });
  cleanups.push(() => server.stop());
  return server;
}

/** `promise`, or a failure naming `what` after a generous deadline (never a measure of speed). */
function within<T>(promise: Promise<T>, what: string, deadlineMs = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${deadlineMs} ms`)), deadlineMs);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Keeps Redis down for `ms` (its data kept on disk), then starts it again on the same port. */
async function outage(redis: RedisServer, ms: number, during: () => void | Promise<void> = () => {}): Promise<void> {
  await redis.kill();
  await during();
  await new Promise((resolve) => setTimeout(resolve, ms));
  await redis.restart();
}

describe('a Redis outage longer than the lock duration', () => {
  it('keeps a result that finished during the outage: reported success once Redis is back, ran once, the run succeeds', async () => {
    const redis = await redisServer();
    const namespace = uniqueNamespace('outage');
    const executor = new BullmqExecutor({
      redisUrl: redis.url,
      namespace,
      pools: [pool('cpu', { cpu: 2 })],
      aliveTtlMs: fast.aliveTtlMs,
    });
    const store = new MemoryStateStore();
    const changes: TaskInstanceRecord[] = [];
    const coordinator = new RunCoordinator({
      store,
      executor,
      listener: { taskChanged: (_run, instance) => changes.push({ ...instance }) },
    });
    cleanups.push(() => coordinator.close());
    let finishBody!: () => void;
    const bodyMayFinish = new Promise<void>((resolve) => {
      finishBody = resolve;
    });
    const bodies: number[] = [];
    const events: string[] = [];
    const worker = new ResourceWorker({
      redisUrl: redis.url,
      namespace,
      pool: 'cpu',
      capacity: spec({ cpu: 2 }),
      name: 'steady',
      ...fast,
      onEvent: (event) => events.push(event.type),
      invoke: async (task) => {
        bodies.push(task.tryNumber);
        await bodyMayFinish;
        return 'done';
      },
    });
    cleanups.push(() => worker.close({ drain: false }));
    await worker.start();

    const once = testTask('finishes_in_outage', [], {
      retry: { ...testTask('x').retry, retries: 0 },
    });
    const handle = await coordinator.startRun(testDag('outage', [once]));
    await eventually(() => bodies.length === 1, 'the body to start');
    await outage(redis, OUTAGE_MS, () => finishBody());

    const run = await within(handle.done, 'the end of the run');
    expect(run.state).toBe('success');
    expect(bodies).toEqual([1]);
    expect(changes.some((change) => change.error?.code === WORKER_LOST)).toBe(false);
    const instance = await store.getTaskInstance(run.runId, 'finishes_in_outage', -1);
    expect(instance).toMatchObject({ state: 'success', tryNumber: 1, worker: 'steady' });
    // The worker hears Redis's answer a moment after the executor read the report: its lock had expired.
    await eventually(() => events.includes('reportedLate'), 'the worker to see its report went out late');
  }, 180_000);

  it('tells a worker killed during the outage (WORKER_LOST once Redis is back) from one only cut off (its result kept)', async () => {
    const redis = await redisServer();
    const namespace = uniqueNamespace('outage-kill');
    const executor = new BullmqExecutor({
      redisUrl: redis.url,
      namespace,
      pools: [pool('doomed', { cpu: 1 }), pool('steady', { cpu: 1 })],
      aliveTtlMs: fast.aliveTtlMs,
    });
    cleanups.push(() => executor.close());
    const listener = new RecordingListener();
    await executor.start(listener);
    const doomed = await ChildWorker.start({
      redisUrl: redis.url,
      namespace,
      pool: 'doomed',
      capacity: spec({ cpu: 1 }),
      name: 'doomed',
      ...fast,
    });
    cleanups.push(() => doomed.stop());
    let finishBody!: () => void;
    const bodyMayFinish = new Promise<void>((resolve) => {
      finishBody = resolve;
    });
    const steadyBodies: string[] = [];
    const steady = new ResourceWorker({
      redisUrl: redis.url,
      namespace,
      pool: 'steady',
      capacity: spec({ cpu: 1 }),
      name: 'steady',
      ...fast,
      invoke: async (task) => {
        steadyBodies.push(task.taskId);
        await bodyMayFinish;
        return 'done';
      },
    });
    cleanups.push(() => steady.close({ drain: false }));
    await steady.start();
    const attempt = { dagId: 'dag', runId: 'run', mapIndex: -1, tryNumber: 1, priorityWeight: 1 };
    await executor.submit({ ...attempt, taskId: 'hang', pool: 'doomed', resources: spec({ cpu: 1 }) });
    await executor.submit({ ...attempt, taskId: 'gated', pool: 'steady', resources: spec({ cpu: 1 }) });
    await doomed.waitFor((m) => m.type === 'body' && m.phase === 'start', 'the body to start on the doomed worker');
    await eventually(() => steadyBodies.length === 1, 'the body to start on the steady worker');
    await outage(redis, OUTAGE_MS, async () => {
      doomed.kill('SIGKILL');
      await doomed.exited;
      finishBody();
    });

    // Another worker of the doomed pool finds the stalled job; the executor settles it as soon as it
    // sees that the doomed worker's alive key is gone, long before the default 5-minute grace.
    const survivor = new ResourceWorker({
      redisUrl: redis.url,
      namespace,
      pool: 'doomed',
      capacity: spec({ cpu: 1 }),
      name: 'survivor',
      ...fast,
      invoke: async () => 'unexpected',
    });
    cleanups.push(() => survivor.close({ drain: false }));
    await survivor.start();
    const lost = await within(listener.finishedOf('hang'), 'the report of the lost attempt');
    expect(lost.outcome).toMatchObject({ status: 'failed', error: { code: WORKER_LOST, retryable: true } });
    expect(doomed.bodies('hang', 'end')).toEqual([]);
    const kept = await within(listener.finishedOf('gated'), 'the report of the attempt that finished');
    expect(kept.outcome).toMatchObject({ status: 'success', output: 'done' });
    expect(kept.worker).toBe('steady');
    expect(steadyBodies).toEqual(['gated']);
    expect(listener.resultsOf('gated')).toHaveLength(1);
  }, 180_000);

  it('holds a WORKER_LOST back for a restarted scheduler too: it learns the worker from the stream’s past and keeps the late result', async () => {
    const redis = await redisServer();
    const namespace = uniqueNamespace('outage-adopt');
    const options = {
      redisUrl: redis.url,
      namespace,
      pools: [pool('cpu', { cpu: 1 })],
      aliveTtlMs: fast.aliveTtlMs,
    };
    const before = new BullmqExecutor(options);
    await before.start(new RecordingListener());
    let finishBody!: () => void;
    const bodyMayFinish = new Promise<void>((resolve) => {
      finishBody = resolve;
    });
    const bodies: number[] = [];
    const lostReports: string[] = [];
    const worker = new ResourceWorker({
      redisUrl: redis.url,
      namespace,
      pool: 'cpu',
      capacity: spec({ cpu: 1 }),
      name: 'steady',
      ...fast,
      onEvent: (event) => {
        if (
          event.type === 'finished' &&
          event.outcome.status === 'failed' &&
          event.outcome.error.code === WORKER_LOST
        ) {
          lostReports.push(event.job.taskId);
        }
      },
      invoke: async (task) => {
        bodies.push(task.tryNumber);
        await bodyMayFinish;
        return 'done';
      },
    });
    cleanups.push(() => worker.close({ drain: false }));
    await worker.start();
    const attempt = { dagId: 'dag', runId: 'run', mapIndex: -1, tryNumber: 1, priorityWeight: 1 };
    const job = { ...attempt, taskId: 'adopted', pool: 'cpu', resources: spec({ cpu: 1 }) };
    await before.submit(job);
    await eventually(() => bodies.length === 1, 'the body to start');
    await before.close();

    // The scheduler restarts: a new executor reads the stream's past (the `started` report), then the
    // resumed run resubmits the attempt (a no-op in BullMQ: same job id).
    const listener = new RecordingListener();
    const after = new BullmqExecutor(options);
    cleanups.push(() => after.close());
    await after.start(listener);
    await after.submit(job);
    // The body outlives the outage: the stalled check reports the attempt WORKER_LOST first, and only then
    // does the body finish and its worker deliver the real result.
    await outage(redis, OUTAGE_MS);
    await eventually(() => lostReports.includes('adopted'), 'the stalled check to report the attempt lost');
    finishBody();

    const result = await within(listener.finishedOf('adopted'), 'the report of the adopted attempt');
    expect(result.outcome).toMatchObject({ status: 'success', output: 'done' });
    expect(result.worker).toBe('steady');
    expect(bodies).toEqual([1]);
    expect(listener.resultsOf('adopted')).toHaveLength(1);
  }, 180_000);

  it('reports WORKER_LOST once for a finished attempt whose worker was restarted during the outage (its unsent report died with it)', async () => {
    const redis = await redisServer();
    const namespace = uniqueNamespace('outage-restart');
    const executor = new BullmqExecutor({
      redisUrl: redis.url,
      namespace,
      pools: [pool('cpu', { cpu: 1 })],
      aliveTtlMs: fast.aliveTtlMs,
    });
    cleanups.push(() => executor.close());
    const listener = new RecordingListener();
    await executor.start(listener);
    // The default worker name carries the process id, so a restarted worker is another worker to the
    // executor: the first one's alive key expires and its attempt is settled long before the grace.
    const first = await ChildWorker.start({
      redisUrl: redis.url,
      namespace,
      pool: 'cpu',
      capacity: spec({ cpu: 1 }),
      name: 'before-restart',
      ...fast,
    });
    cleanups.push(() => first.stop());
    const attempt = { dagId: 'dag', runId: 'run', mapIndex: -1, tryNumber: 1, priorityWeight: 1 };
    await executor.submit({ ...attempt, taskId: 'sleep1500', pool: 'cpu', resources: spec({ cpu: 1 }) });
    await first.waitFor((m) => m.type === 'body' && m.phase === 'start', 'the body to start');
    await outage(redis, OUTAGE_MS, async () => {
      // The body finishes while Redis is away: its report waits in the worker's memory, then dies with it.
      await first.waitFor((m) => m.type === 'body' && m.phase === 'end', 'the body to finish during the outage');
      first.kill('SIGKILL');
      await first.exited;
    });
    const restarted = await ChildWorker.start({
      redisUrl: redis.url,
      namespace,
      pool: 'cpu',
      capacity: spec({ cpu: 1 }),
      name: 'after-restart',
      ...fast,
    });
    cleanups.push(() => restarted.stop());

    const lost = await within(listener.finishedOf('sleep1500'), 'the report of the attempt whose report was lost');
    expect(lost.outcome).toMatchObject({ status: 'failed', error: { code: WORKER_LOST, retryable: true } });
    expect(first.bodies('sleep1500', 'end')).toHaveLength(1);
    expect(listener.resultsOf('sleep1500')).toHaveLength(1);
    // The restarted worker does not run try 1 again on its own: the retry is the scheduler's (try 2).
    expect(restarted.bodies('sleep1500', 'start')).toEqual([]);
  }, 180_000);

  it('stops an attempt still running when the grace runs out after Redis is back, and reports it WORKER_LOST', async () => {
    const redis = await redisServer();
    const namespace = uniqueNamespace('outage-grace');
    const graceMs = 1_000;
    const executor = new BullmqExecutor({
      redisUrl: redis.url,
      namespace,
      pools: [pool('cpu', { cpu: 1 })],
      aliveTtlMs: fast.aliveTtlMs,
      outageGraceMs: graceMs,
    });
    cleanups.push(() => executor.close());
    const listener = new RecordingListener();
    await executor.start(listener);
    let started = false;
    let stopped = false;
    const worker = new ResourceWorker({
      redisUrl: redis.url,
      namespace,
      pool: 'cpu',
      capacity: spec({ cpu: 1 }),
      name: 'slow',
      ...fast,
      outageGraceMs: graceMs,
      // A body that would run for ever: only the end of the grace stops it.
      invoke: (_task, signal) =>
        new Promise<never>((_, reject) => {
          started = true;
          signal.addEventListener('abort', () => {
            stopped = true;
            reject(signal.reason);
          });
        }),
    });
    cleanups.push(() => worker.close({ drain: false }));
    await worker.start();
    const attempt = { dagId: 'dag', runId: 'run', mapIndex: -1, tryNumber: 1, priorityWeight: 1 };
    await executor.submit({ ...attempt, taskId: 'long', pool: 'cpu', resources: spec({ cpu: 1 }) });
    await eventually(() => started, 'the body to start');
    await outage(redis, OUTAGE_MS);

    const lost = await within(listener.finishedOf('long'), 'the report of the attempt past the grace');
    expect(lost.outcome).toMatchObject({ status: 'failed', error: { code: WORKER_LOST, retryable: true } });
    await eventually(() => stopped, 'the body to be stopped at the end of the grace');
    expect(listener.resultsOf('long')).toHaveLength(1);
  }, 180_000);
});
