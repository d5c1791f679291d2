import { ManualClock, type ResourceSpec, TASK_CANCELLED, TASK_TIMEOUT, type TaskInvoker } from '@batuta/scheduler';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrchestratorError } from '../../src/errors.js';
import { LocalExecutor, type LocalExecutorOptions } from '../../src/local/local-executor.js';
import { fits, resourcesEqual, zeroResources } from '../../src/resources/resources.js';
import { flush, GatedBodies, makeJob, RecordingListener, until } from './harness.js';

function capacity(cpu: number, rest: Partial<ResourceSpec> = {}): ResourceSpec {
  return { cpu, memoryMb: 0, gpu: 0, custom: {}, ...rest };
}

async function startExecutor(options: Partial<LocalExecutorOptions> & { bodies?: GatedBodies } = {}) {
  const bodies = options.bodies ?? new GatedBodies({ capacityCpu: options.capacity?.cpu ?? 4 });
  const clock = new ManualClock(1_000);
  const listener = new RecordingListener();
  const executor = new LocalExecutor({ capacity: capacity(4), invoke: bodies.invoke, clock, ...options });
  await executor.start(listener);
  return { executor, bodies, clock, listener };
}

describe('LocalExecutor admission', () => {
  it('runs four 1-cpu jobs together on 4 cpu, but never a 4-cpu job beside them', async () => {
    const { executor, bodies, listener } = await startExecutor({ backfillWindow: 0 });
    for (const id of ['a', 'b', 'c', 'd']) await executor.submit(makeJob(id));
    await executor.submit(makeJob('big', { resources: { cpu: 4 } }));
    await executor.submit(makeJob('e'));
    await until(() => bodies.executing.size === 4);
    expect([...bodies.executing.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(executor.queuedCount()).toBe(2);

    for (const id of ['a', 'b', 'c']) {
      bodies.succeed(id);
      await listener.finishedOf(id);
    }
    await flush();
    expect(listener.startedIds()).toEqual(['a', 'b', 'c', 'd']);
    bodies.succeed('d');
    await until(() => bodies.executing.has('big'));
    expect([...bodies.executing.keys()]).toEqual(['big']);
    expect(executor.inUse()).toEqual(capacity(4));
    bodies.succeed('big');
    await until(() => bodies.executing.has('e'));
    bodies.succeed('e');
    await listener.finishedCount(6);

    expect(bodies.violations).toEqual([]);
    expect(bodies.peakCpu).toBe(4);
    expect(executor.peakInUse()).toEqual(capacity(4));
    expect(executor.inUse()).toEqual(capacity(0));
    expect(listener.startedIds()).toEqual(['a', 'b', 'c', 'd', 'big', 'e']);
  });

  it('admits on every dimension: memory, gpu and custom counters', async () => {
    const bodies = new GatedBodies();
    const { executor } = await startExecutor({
      bodies,
      capacity: capacity(16, { memoryMb: 1024, gpu: 1, custom: { licenses: 1 } }),
    });
    await executor.submit(makeJob('mem-1', { resources: { memoryMb: 768 } }));
    await executor.submit(makeJob('mem-2', { resources: { memoryMb: 512 } }));
    await executor.submit(makeJob('gpu-1', { resources: { gpu: 1 }, priorityWeight: 0 }));
    await executor.submit(makeJob('gpu-2', { resources: { gpu: 1 }, priorityWeight: 0 }));
    await executor.submit(makeJob('lic-1', { resources: { custom: { licenses: 1 } }, priorityWeight: 0 }));
    await executor.submit(makeJob('lic-2', { resources: { custom: { licenses: 1 } }, priorityWeight: 0 }));
    await until(() => bodies.executing.size === 3);
    expect([...bodies.executing.keys()].sort()).toEqual(['gpu-1', 'lic-1', 'mem-1']);
    expect(executor.inUse()).toEqual(capacity(3, { memoryMb: 768, gpu: 1, custom: { licenses: 1 } }));

    for (const id of ['mem-1', 'gpu-1', 'lic-1']) bodies.succeed(id);
    await until(() => bodies.executing.size === 3 && !bodies.executing.has('mem-1'));
    expect([...bodies.executing.keys()].sort()).toEqual(['gpu-2', 'lic-2', 'mem-2']);
  });

  it('runs ten 0.1-cpu jobs together on 1 cpu (no floating-point drift)', async () => {
    const bodies = new GatedBodies({ capacityCpu: 1 });
    const { executor, listener } = await startExecutor({ bodies, capacity: capacity(1) });
    for (let i = 0; i < 11; i++) await executor.submit(makeJob(`t${i}`, { resources: { cpu: 0.1 } }));
    await until(() => bodies.executing.size === 10);
    expect(executor.queuedCount()).toBe(1);
    for (let i = 0; i < 10; i++) bodies.succeed(`t${i}`);
    await until(() => bodies.executing.has('t10'));
    bodies.succeed('t10');
    await listener.finishedCount(11);
    expect(executor.inUse().cpu).toBe(0);
  });

  it('refuses at submit a job bigger than the whole capacity, saying need and capacity', async () => {
    const { executor, listener } = await startExecutor({ capacity: capacity(4, { memoryMb: 8192 }) });
    const refuse = async (resources: Partial<ResourceSpec>) => {
      const error = await executor.submit(makeJob('huge', { runId: 'r7', resources })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OrchestratorError);
      expect(error).toMatchObject({ code: 'NO_CAPACITY_FITS' });
      return (error as Error).message;
    };
    const message = await refuse({ cpu: 8 });
    expect(message).toContain("task 'huge' of run 'r7'");
    expect(message).toContain('needs cpu=8,memoryMb=0,gpu=0');
    expect(message).toContain('capacity is cpu=4,memoryMb=8192,gpu=0');
    await refuse({ memoryMb: 9000 });
    await refuse({ gpu: 1 });
    expect(await refuse({ custom: { licenses: 1 } })).toContain('licenses=1');
    expect(executor.queuedCount()).toBe(0);
    expect(listener.events).toEqual([]);
  });

  it('refuses invalid resources and priorities', async () => {
    const { executor } = await startExecutor();
    await expect(executor.submit(makeJob('neg', { resources: { cpu: -1 } }))).rejects.toMatchObject({
      code: 'BAD_RESOURCES',
    });
    await expect(executor.submit(makeJob('nan', { priorityWeight: Number.NaN }))).rejects.toMatchObject({
      code: 'BAD_PRIORITY',
    });
    expect(() => new LocalExecutor({ capacity: capacity(Number.NaN), invoke: async () => 1 })).toThrow(
      expect.objectContaining({ code: 'BAD_CAPACITY' }),
    );
  });

  it('starts higher priorityWeight first, first-in first-out within a priority', async () => {
    const bodies = new GatedBodies({ capacityCpu: 1 });
    const { executor, listener } = await startExecutor({ bodies, capacity: capacity(1) });
    await executor.submit(makeJob('blocker', { priorityWeight: 0 }));
    const queued: Array<[string, number]> = [
      ['low', 1],
      ['high', 10],
      ['mid', 5],
      ['high-2', 10],
      ['low-2', 1],
      ['negative', -5],
    ];
    for (const [id, priorityWeight] of queued) await executor.submit(makeJob(id, { priorityWeight }));
    let current = 'blocker';
    for (let i = 0; i < queued.length; i++) {
      await until(() => bodies.executing.has(current));
      bodies.succeed(current);
      await listener.finishedOf(current);
      await listener.waitFor(() => listener.startedIds().length === i + 2);
      current = listener.startedIds()[i + 1]!;
    }
    bodies.succeed(current);
    expect(listener.startedIds()).toEqual(['blocker', 'high', 'high-2', 'mid', 'low', 'low-2', 'negative']);
  });

  it('queues jobs submitted before start and admits them when it starts', async () => {
    const bodies = new GatedBodies();
    const executor = new LocalExecutor({ capacity: capacity(2), invoke: bodies.invoke, clock: new ManualClock() });
    await executor.submit(makeJob('early'));
    expect(executor.queuedCount()).toBe(1);
    const listener = new RecordingListener();
    await executor.start(listener);
    await until(() => bodies.executing.has('early'));
    await expect(executor.start(listener)).rejects.toMatchObject({ code: 'EXECUTOR_STARTED' });
    bodies.succeed('early');
    await listener.finishedOf('early');
  });
});

describe('LocalExecutor backfill', () => {
  async function bigBehindSmall(options: Partial<LocalExecutorOptions>) {
    const bodies = new GatedBodies({ capacityCpu: 4 });
    const { executor, listener } = await startExecutor({ bodies, ...options });
    for (const id of ['a', 'b', 'c']) await executor.submit(makeJob(id));
    await executor.submit(makeJob('big', { resources: { cpu: 4 } }));
    for (const id of ['s1', 's2', 's3', 's4']) await executor.submit(makeJob(id));
    const finish = async (id: string) => {
      await until(() => bodies.executing.has(id));
      bodies.succeed(id);
      await listener.finishedOf(id);
    };
    return { executor, listener, bodies, finish };
  }

  it('lets smaller jobs overtake a blocked head at most maxBypass times, then reserves for the head', async () => {
    const { listener, bodies, finish } = await bigBehindSmall({ maxBypass: 2 });
    // 3 cpu busy, 1 free: s1 overtakes the 4-cpu head at once (bypass 1).
    await until(() => bodies.executing.has('s1'));
    await finish('a'); // 1 free again: s2 overtakes (bypass 2, the limit)
    await until(() => bodies.executing.has('s2'));
    await finish('b'); // the head now reserves: nothing else starts although 1 cpu is free
    await finish('c');
    await finish('s1');
    await flush();
    expect(listener.startedIds()).toEqual(['a', 'b', 'c', 's1', 's2']);
    await finish('s2');
    await finish('big');
    for (const id of ['s3', 's4']) await finish(id);
    expect(listener.startedIds()).toEqual(['a', 'b', 'c', 's1', 's2', 'big', 's3', 's4']);
    expect(bodies.violations).toEqual([]);
  });

  it('is strict head-of-line with backfillWindow 0', async () => {
    const { listener, finish } = await bigBehindSmall({ backfillWindow: 0 });
    for (const id of ['a', 'b', 'c', 'big', 's1', 's2', 's3', 's4']) await finish(id);
    expect(listener.startedIds()).toEqual(['a', 'b', 'c', 'big', 's1', 's2', 's3', 's4']);
  });

  it('never exceeds capacity, never idles with work queued, and finishes every job', async () => {
    const job = fc.record({
      cpu: fc.integer({ min: 1, max: 8 }).map((n) => n / 2),
      memoryMb: fc.constantFrom(0, 256, 512, 1024),
      licenses: fc.integer({ min: 0, max: 2 }),
      priorityWeight: fc.integer({ min: 0, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(job, { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 25 }),
        fc.constantFrom(0, 1, 4, 64),
        fc.constantFrom(0, 1, 3),
        async (jobs, picks, backfillWindow, maxBypass) => {
          const total = capacity(4, { memoryMb: 1024, custom: { licenses: 2 } });
          const bodies = new GatedBodies({ capacityCpu: 4 });
          const held = { memoryMb: 0, licenses: 0 };
          const overLimit: string[] = [];
          const invoke: TaskInvoker = async (taskJob, signal, report) => {
            held.memoryMb += taskJob.resources.memoryMb;
            held.licenses += taskJob.resources.custom.licenses ?? 0;
            if (held.memoryMb > 1024 || held.licenses > 2) overLimit.push(taskJob.taskId);
            try {
              return await bodies.invoke(taskJob, signal, report);
            } finally {
              held.memoryMb -= taskJob.resources.memoryMb;
              held.licenses -= taskJob.resources.custom.licenses ?? 0;
            }
          };
          const listener = new RecordingListener();
          const executor = new LocalExecutor({ capacity: total, invoke, backfillWindow, maxBypass });
          await executor.start(listener);
          for (const [i, spec] of jobs.entries()) {
            await executor.submit(
              makeJob(`j${i}`, {
                priorityWeight: spec.priorityWeight,
                resources: { cpu: spec.cpu, memoryMb: spec.memoryMb, custom: { licenses: spec.licenses } },
              }),
            );
          }
          for (let step = 0; listener.results().length < jobs.length; step++) {
            await until(() => bodies.executing.size === executor.runningCount());
            // Work-conserving: with work queued, something runs (each job fits the empty executor).
            expect(executor.runningCount() > 0 || executor.queuedCount() === 0).toBe(true);
            expect(fits(executor.inUse(), total)).toBe(true);
            const running = [...bodies.executing.keys()];
            const victim = running[picks[step % picks.length]! % running.length]!;
            const done = listener.results().length;
            bodies.succeed(victim);
            await listener.finishedCount(done + 1);
          }
          expect(bodies.violations).toEqual([]);
          expect(overLimit).toEqual([]);
          expect(listener.results().every((result) => result.outcome.status === 'success')).toBe(true);
          expect(new Set(listener.results().map((r) => r.job.taskId)).size).toBe(jobs.length);
          expect(resourcesEqual(executor.inUse(), zeroResources())).toBe(true);
          await executor.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('LocalExecutor reports', () => {
  it('reports started and finished with the clock, the worker and the output', async () => {
    const bodies = new GatedBodies();
    const { executor, clock, listener } = await startExecutor({ bodies, worker: 'laptop' });
    const job = makeJob('score', { mapIndex: 3, tryNumber: 2 });
    await executor.submit(job);
    await until(() => bodies.executing.has('score'));
    clock.advance(250);
    bodies.succeed('score', { rows: 150 });
    const result = await listener.finishedOf('score');
    expect(listener.events[0]).toEqual({ type: 'started', job, atMs: 1_000, worker: 'laptop' });
    expect(result).toEqual({
      job,
      outcome: { status: 'success', output: { rows: 150 } },
      startedMs: 1_000,
      endedMs: 1_250,
      worker: 'laptop',
    });
  });

  it('defaults the worker name to local', async () => {
    const { executor, listener } = await startExecutor({ invoke: async () => 'ok' });
    await executor.submit(makeJob('t'));
    expect((await listener.finishedOf('t')).worker).toBe('local');
  });

  it('keeps name, code, retryable and stack of a thrown error', async () => {
    class DatabaseDown extends Error {
      readonly code = 'E_DB_DOWN';
      readonly retryable = false;
      override readonly name = 'DatabaseDown';
    }
    const { executor, listener } = await startExecutor({
      invoke: async (job) => {
        if (job.taskId === 'db') throw new DatabaseDown('the database is down');
        if (job.taskId === 'errno') throw Object.assign(new Error('refused'), { code: 111 });
        if (job.taskId === 'string') throw 'plain string';
        if (job.taskId === 'object') throw { reason: 'odd' };
        throw new TypeError('x is not a function');
      },
    });
    for (const id of ['db', 'errno', 'string', 'object', 'type']) await executor.submit(makeJob(id));
    await listener.finishedCount(5);
    const db = (await listener.finishedOf('db')).outcome;
    expect(db).toEqual({
      status: 'failed',
      error: {
        message: 'the database is down',
        name: 'DatabaseDown',
        code: 'E_DB_DOWN',
        retryable: false,
        stack: expect.stringContaining('the database is down'),
      },
    });
    expect((await listener.finishedOf('errno')).outcome).toMatchObject({ error: { code: '111', name: 'Error' } });
    expect((await listener.finishedOf('string')).outcome).toEqual({
      status: 'failed',
      error: { message: 'plain string' },
    });
    expect((await listener.finishedOf('object')).outcome).toEqual({
      status: 'failed',
      error: { message: '{"reason":"odd"}' },
    });
    const type = (await listener.finishedOf('type')).outcome;
    expect(type).toMatchObject({ status: 'failed', error: { name: 'TypeError', message: 'x is not a function' } });
    expect(type.status === 'failed' && 'retryable' in type.error).toBe(false);
  });

  it('reports a failure when the invoker throws synchronously', async () => {
    const { executor, listener } = await startExecutor({
      invoke: ((): Promise<unknown> => {
        throw new RangeError('sync');
      }) as TaskInvoker,
    });
    await executor.submit(makeJob('t'));
    expect((await listener.finishedOf('t')).outcome).toMatchObject({ status: 'failed', error: { name: 'RangeError' } });
    expect(executor.inUse().cpu).toBe(0);
  });

  it('reports skipped for an error named TaskSkipped or with code TASK_SKIPPED', async () => {
    class TaskSkipped extends Error {
      override readonly name = 'TaskSkipped';
    }
    const { executor, listener } = await startExecutor({
      invoke: async (job) => {
        if (job.taskId === 'by-name') throw new TaskSkipped('no new data today');
        throw Object.assign(new Error(''), { code: 'TASK_SKIPPED' });
      },
    });
    await executor.submit(makeJob('by-name'));
    await executor.submit(makeJob('by-code'));
    expect((await listener.finishedOf('by-name')).outcome).toEqual({ status: 'skipped', reason: 'no new data today' });
    expect((await listener.finishedOf('by-code')).outcome).toEqual({
      status: 'skipped',
      reason: 'the task skipped itself',
    });
  });

  it('forwards logs and progress while running, and drops them after finished', async () => {
    let late: (() => void) | undefined;
    const clock = new ManualClock();
    const listener = new RecordingListener();
    const executor = new LocalExecutor({
      capacity: capacity(1),
      clock,
      invoke: async (_job, signal, report) => {
        report.log('loading');
        report.progress(0.5);
        await new Promise<void>((resolve) => {
          late = () => {
            report.log('after the timeout');
            report.progress(1);
            resolve();
          };
        });
        return signal.aborted;
      },
    });
    await executor.start(listener);
    await executor.submit(makeJob('t', { timeoutMs: 10 }));
    await listener.waitFor(() => listener.events.some((event) => event.type === 'progress'));
    clock.advance(10);
    await listener.finishedOf('t');
    late!();
    await until(() => executor.runningCount() === 0);
    expect(listener.events.map((event) => event.type)).toEqual(['started', 'log', 'progress', 'finished']);
    expect(listener.events[1]).toMatchObject({ message: 'loading' });
    expect(listener.events[2]).toMatchObject({ fraction: 0.5 });
  });

  it('rethrows a listener exception out of band and keeps working', async () => {
    const listener = new RecordingListener();
    const throwing = Object.assign(Object.create(listener) as RecordingListener, {
      started: () => {
        throw new Error('listener bug');
      },
    });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    const previous = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      const executor = new LocalExecutor({ capacity: capacity(1), invoke: async () => 'ok' });
      await executor.start(throwing);
      await executor.submit(makeJob('t'));
      await listener.finishedOf('t');
      await flush();
      expect(uncaught).toEqual([new Error('listener bug')]);
      expect(executor.inUse().cpu).toBe(0);
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      for (const handler of previous) process.on('uncaughtException', handler);
    }
  });
});

describe('LocalExecutor timeouts', () => {
  it('aborts the signal and reports TASK_TIMEOUT at expiry, holding resources until the body settles', async () => {
    const bodies = new GatedBodies({ capacityCpu: 1 });
    const { executor, clock, listener } = await startExecutor({ bodies, capacity: capacity(1) });
    await executor.submit(makeJob('slow', { timeoutMs: 1_000 }));
    await executor.submit(makeJob('next'));
    await until(() => bodies.executing.has('slow'));

    clock.advance(999);
    await flush();
    expect(listener.results()).toEqual([]);
    expect(bodies.signals.get('slow')?.aborted).toBe(false);

    clock.advance(1);
    const result = await listener.finishedOf('slow');
    expect(result.outcome).toEqual({
      status: 'failed',
      error: {
        message: "task 'slow' of run 'run' timed out after 1000 ms",
        name: 'TaskTimeoutError',
        code: TASK_TIMEOUT,
        retryable: true,
      },
    });
    expect(result.startedMs).toBe(1_000);
    expect(result.endedMs).toBe(2_000);
    const signal = bodies.signals.get('slow')!;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ code: TASK_TIMEOUT });

    // The body ignores its signal: it still holds its cpu, so 'next' waits.
    await flush();
    expect(executor.runningCount()).toBe(1);
    expect(executor.inUse().cpu).toBe(1);
    expect(listener.startedIds()).toEqual(['slow']);

    bodies.succeed('slow', 'late result');
    await until(() => bodies.executing.has('next'));
    expect(listener.resultsOf('slow')).toHaveLength(1);
    bodies.succeed('next');
    await listener.finishedOf('next');
  });

  it('reports a body that honours the signal once, as a timeout', async () => {
    const bodies = new GatedBodies({ honourSignal: true });
    const { executor, clock, listener } = await startExecutor({ bodies });
    await executor.submit(makeJob('t', { timeoutMs: 50 }));
    await until(() => bodies.executing.has('t'));
    clock.advance(50);
    await until(() => executor.runningCount() === 0);
    await flush();
    expect(listener.resultsOf('t')).toHaveLength(1);
    expect(listener.resultsOf('t')[0]!.outcome).toMatchObject({ error: { code: TASK_TIMEOUT } });
    expect(executor.inUse().cpu).toBe(0);
  });

  it('disarms the timer of an attempt that finished in time', async () => {
    const bodies = new GatedBodies();
    const { executor, clock, listener } = await startExecutor({ bodies });
    await executor.submit(makeJob('t', { timeoutMs: 100 }));
    await until(() => bodies.executing.has('t'));
    expect(clock.nextTimerAtMs()).toBe(1_100);
    bodies.succeed('t');
    await listener.finishedOf('t');
    expect(clock.nextTimerAtMs()).toBeUndefined();
    clock.advance(1_000);
    expect(listener.resultsOf('t')).toHaveLength(1);
    expect(listener.resultsOf('t')[0]!.outcome.status).toBe('success');
  });

  it('arms no timer without a positive timeoutMs', async () => {
    const bodies = new GatedBodies();
    const { executor, clock, listener } = await startExecutor({ bodies });
    await executor.submit(makeJob('none'));
    await executor.submit(makeJob('zero', { timeoutMs: 0 }));
    await until(() => bodies.executing.size === 2);
    expect(clock.nextTimerAtMs()).toBeUndefined();
    bodies.succeed('none');
    bodies.succeed('zero');
    await listener.finishedCount(2);
  });
});

describe('LocalExecutor cancel', () => {
  it('drops queued and aborts running attempts of a run, reporting TASK_CANCELLED at once', async () => {
    const bodies = new GatedBodies({ capacityCpu: 1, honourSignal: false });
    const { executor, listener } = await startExecutor({ bodies, capacity: capacity(1) });
    await executor.submit(makeJob('running', { runId: 'r1' }));
    await executor.submit(makeJob('queued', { runId: 'r1' }));
    await executor.submit(makeJob('other-run', { runId: 'r2' }));
    await until(() => bodies.executing.has('running'));

    expect(await executor.cancel({ runId: 'r1' }, 'the user marked the run failed')).toBe(2);
    const cancelled = {
      status: 'failed',
      error: {
        name: 'TaskCancelledError',
        code: TASK_CANCELLED,
        retryable: false,
        message: expect.stringContaining('cancelled: the user marked the run failed'),
      },
    };
    expect(listener.resultsOf('queued')).toEqual([
      { job: makeJob('queued', { runId: 'r1' }), outcome: cancelled, startedMs: 1_000, endedMs: 1_000 },
    ]);
    expect(listener.resultsOf('running')).toEqual([expect.objectContaining({ outcome: cancelled, worker: 'local' })]);
    expect(listener.startedIds()).toEqual(['running']);
    expect(bodies.signals.get('running')?.reason).toMatchObject({ code: TASK_CANCELLED });
    expect(executor.queuedCount()).toBe(1);

    // The cancelled body still holds the cpu until it settles; then r2 starts.
    await flush();
    expect(listener.startedIds()).toEqual(['running']);
    bodies.succeed('running');
    await until(() => bodies.executing.has('other-run'));
    expect(listener.resultsOf('running')).toHaveLength(1);
    expect(await executor.cancel({ runId: 'r1' }, 'again')).toBe(0);
    bodies.succeed('other-run');
    await listener.finishedOf('other-run');
  });

  it('cancels only the task and map index asked for', async () => {
    const bodies = new GatedBodies();
    const { executor, listener } = await startExecutor({ bodies, capacity: capacity(2) });
    for (const mapIndex of [0, 1, 2]) await executor.submit(makeJob('x', { mapIndex }));
    await executor.submit(makeJob('y'));
    expect(await executor.cancel({ runId: 'run', taskId: 'x', mapIndex: 2 }, 'one')).toBe(1);
    expect(listener.results().map((r) => [r.job.taskId, r.job.mapIndex])).toEqual([['x', 2]]);
    expect(await executor.cancel({ runId: 'run', taskId: 'x' }, 'all of x')).toBe(2);
    expect(await executor.cancel({ runId: 'nobody' }, 'none')).toBe(0);
    expect(executor.queuedCount()).toBe(1);
    await executor.cancel({ runId: 'run' }, 'the rest');
    await listener.finishedCount(4);
  });

  it('lets the queue move on when a blocked head is cancelled', async () => {
    const bodies = new GatedBodies();
    const { executor, listener } = await startExecutor({ bodies, capacity: capacity(2), backfillWindow: 0 });
    await executor.submit(makeJob('a'));
    await executor.submit(makeJob('big', { runId: 'doomed', resources: { cpu: 2 } }));
    await executor.submit(makeJob('small'));
    await until(() => bodies.executing.has('a'));
    await flush();
    expect(listener.startedIds()).toEqual(['a']);
    await executor.cancel({ runId: 'doomed' }, 'not needed');
    await until(() => bodies.executing.has('small'));
    bodies.succeed('a');
    bodies.succeed('small');
    await listener.finishedCount(3);
  });
});

describe('LocalExecutor close', () => {
  it('cancels queued and running attempts, waits for bodies to settle, then refuses work', async () => {
    const bodies = new GatedBodies({ honourSignal: true });
    const { executor, listener } = await startExecutor({ bodies, capacity: capacity(1) });
    await executor.submit(makeJob('running'));
    await executor.submit(makeJob('queued'));
    await until(() => bodies.executing.has('running'));

    await executor.close();
    expect(bodies.executing.size).toBe(0);
    expect(executor.runningCount()).toBe(0);
    expect(executor.queuedCount()).toBe(0);
    expect(listener.results().map((r) => [r.job.taskId, r.outcome])).toEqual([
      ['queued', expect.objectContaining({ error: expect.objectContaining({ code: TASK_CANCELLED }) })],
      ['running', expect.objectContaining({ error: expect.objectContaining({ code: TASK_CANCELLED }) })],
    ]);
    expect(listener.startedIds()).toEqual(['running']);
    await expect(executor.submit(makeJob('late'))).rejects.toMatchObject({ code: 'EXECUTOR_CLOSED' });
    await expect(executor.start(listener)).rejects.toMatchObject({ code: 'EXECUTOR_CLOSED' });
    await executor.close();
  });

  it('waits for a body that ignores its signal before close resolves', async () => {
    const bodies = new GatedBodies();
    const { executor } = await startExecutor({ bodies });
    await executor.submit(makeJob('stubborn'));
    await until(() => bodies.executing.has('stubborn'));
    let closed = false;
    const closing = executor.close().then(() => {
      closed = true;
    });
    await flush();
    expect(closed).toBe(false);
    expect(bodies.signals.get('stubborn')?.aborted).toBe(true);
    bodies.succeed('stubborn');
    await closing;
    expect(executor.inUse().cpu).toBe(0);
  });
});

describe('LocalExecutor throughput', () => {
  it('pushes 100,000 no-op jobs through, each admitted as the previous finishes', async () => {
    const listener = new RecordingListener();
    let finished = 0;
    const counting = Object.assign(Object.create(listener) as RecordingListener, {
      started: () => {},
      finished: () => {
        finished++;
      },
    });
    const executor = new LocalExecutor({ capacity: capacity(8), invoke: async () => undefined });
    await executor.start(counting);
    const total = 100_000;
    const submissions: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      submissions.push(executor.submit(makeJob(`t${i}`, { priorityWeight: i % 3, resources: { cpu: 1 + (i % 2) } })));
    }
    await Promise.all(submissions);
    await until(() => finished === total, 'every job to finish');
    expect(executor.queuedCount()).toBe(0);
    expect(executor.peakInUse().cpu).toBe(8);
    await executor.close();
  });
});
