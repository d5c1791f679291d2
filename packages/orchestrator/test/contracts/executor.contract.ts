// The Executor contract: every adapter (LocalExecutor, BullmqExecutor with its workers, …) runs this suite
// unchanged. Each test gets a fresh executor from `make`, with the capacity and task bodies it asks for.
import {
  type Executor,
  type ResourceSpec,
  TASK_CANCELLED,
  TASK_TIMEOUT,
  type TaskInvoker,
  type TaskResult,
} from '@batuta/scheduler';
import { afterEach, describe, expect, it } from 'vitest';
import { GatedBodies, makeJob, RecordingListener, until } from '../local/harness.js';

/** What a test asks of the adapter: everything its workers may hold at once, and the bodies they run. */
export interface ExecutorSetup {
  capacity: ResourceSpec;
  invoke: TaskInvoker;
}

/** An executor under test, not yet started, with the hooks the contract needs around it. */
export interface ExecutorSubject {
  executor: Executor;
  /** Resolves once `count` submitted attempts wait where a free worker would take them. */
  queued(count: number): Promise<void>;
  /** Closes what the adapter started beside the executor (workers, connections); after `executor.close()`. */
  dispose?(): Promise<void>;
}

const DEADLINE_MS = 15_000;

function cpu(amount: number): ResourceSpec {
  return { cpu: amount, memoryMb: 1024, gpu: 0, custom: {} };
}

/** Runs the Executor contract against the adapter `make` builds. */
export function executorContract(name: string, make: (setup: ExecutorSetup) => Promise<ExecutorSubject>): void {
  describe(`Executor contract: ${name}`, () => {
    const subjects: ExecutorSubject[] = [];

    afterEach(async () => {
      for (const subject of subjects.splice(0)) {
        await subject.executor.close();
        await subject.dispose?.();
      }
    });

    /** A started executor with `capacityCpu` cpu whose bodies wait for the test. */
    async function started(capacityCpu: number, options: { honourSignal?: boolean } = {}) {
      const bodies = new GatedBodies({ capacityCpu, ...options });
      const subject = await make({ capacity: cpu(capacityCpu), invoke: bodies.invoke });
      subjects.push(subject);
      const listener = new RecordingListener();
      await subject.executor.start(listener);
      return { ...subject, bodies, listener };
    }

    const executing = (bodies: GatedBodies, ...ids: string[]) =>
      until(() => ids.every((id) => bodies.executing.has(id)), `${ids.join(', ')} to execute`, DEADLINE_MS);

    it('reports started, then finished with the output and the worker, once per submitted attempt', async () => {
      const { executor, bodies, listener } = await started(2);
      await executor.submit(makeJob('hello'));
      await executing(bodies, 'hello');
      bodies.succeed('hello', { echoed: 'hello' });
      const result = await listener.finishedOf('hello');
      expect(result.outcome).toEqual({ status: 'success', output: { echoed: 'hello' } });
      expect(typeof result.worker).toBe('string');
      expect(result.endedMs).toBeGreaterThanOrEqual(result.startedMs);
      const types = listener.events.filter((event) => event.type !== 'log' && event.type !== 'progress');
      expect(types.map((event) => event.type)).toEqual(['started', 'finished']);
    });

    it('reports a failing task failed, keeping the error message, code and retryable flag', async () => {
      const { executor, bodies, listener } = await started(2);
      await executor.submit(makeJob('broken'));
      await executing(bodies, 'broken');
      bodies.fail('broken', Object.assign(new Error('the database said no'), { code: 'E_DB', retryable: false }));
      const result = await listener.finishedOf('broken');
      expect(result.outcome).toMatchObject({
        status: 'failed',
        error: { message: 'the database said no', code: 'E_DB', retryable: false },
      });
    });

    it('holds a job that needs more than is free until running jobs free it, never over capacity', async () => {
      const { executor, bodies, listener } = await started(2);
      await executor.submit(makeJob('a'));
      await executor.submit(makeJob('b'));
      await executing(bodies, 'a', 'b');
      await executor.submit(makeJob('big', { resources: { cpu: 2 } }));
      bodies.succeed('a');
      await listener.finishedOf('a');
      expect(bodies.executing.has('big')).toBe(false);
      bodies.succeed('b');
      await executing(bodies, 'big');
      bodies.succeed('big');
      await listener.finishedOf('big');
      expect(bodies.violations).toEqual([]);
      expect(bodies.peakCpu).toBe(2);
      const order = listener.events.map((event) =>
        event.type === 'started' ? `started ${event.job.taskId}` : event.type === 'finished' ? 'finished' : '',
      );
      expect(order.indexOf('started big')).toBeGreaterThan(order.lastIndexOf('started b'));
    });

    it('starts waiting jobs by priorityWeight, higher first', async () => {
      const { executor, bodies, listener, queued } = await started(1);
      await executor.submit(makeJob('blocker'));
      await executing(bodies, 'blocker');
      const weights: Record<string, number> = { low: 1, high: 10, middle: 5 };
      for (const id of ['low', 'high', 'middle']) await executor.submit(makeJob(id, { priorityWeight: weights[id]! }));
      await queued(3);
      bodies.succeed('blocker');
      for (const id of ['high', 'middle', 'low']) {
        await executing(bodies, id);
        bodies.succeed(id);
        await listener.finishedOf(id);
      }
      expect(listener.startedIds()).toEqual(['blocker', 'high', 'middle', 'low']);
    });

    it('cancels the waiting and running attempts of a run, each reported TASK_CANCELLED once', async () => {
      const { executor, bodies, listener } = await started(1, { honourSignal: true });
      await executor.submit(makeJob('running', { runId: 'r1' }));
      await executing(bodies, 'running');
      await executor.submit(makeJob('waiting', { runId: 'r1' }));
      await executor.submit(makeJob('other', { runId: 'r2' }));
      expect(await executor.cancel({ runId: 'r1' }, 'the user asked')).toBe(2);
      for (const id of ['running', 'waiting']) {
        expect((await listener.finishedOf(id)).outcome).toMatchObject({
          status: 'failed',
          error: { code: TASK_CANCELLED, retryable: false },
        });
      }
      // The run's slot is free again once the aborted body settles: the other run goes on.
      await executing(bodies, 'other');
      bodies.succeed('other');
      await listener.finishedOf('other');
      expect(listener.startedIds()).not.toContain('waiting');
      expect(listener.resultsOf('running')).toHaveLength(1);
      expect(listener.resultsOf('waiting')).toHaveLength(1);
    });

    it('aborts an attempt at its timeout, reports TASK_TIMEOUT (retryable) once, and holds its resources until it settles', async () => {
      const { executor, bodies, listener } = await started(1);
      await executor.submit(makeJob('slow', { timeoutMs: 200 }));
      await executing(bodies, 'slow');
      await executor.submit(makeJob('next'));
      const result = await listener.finishedOf('slow');
      expect(result.outcome).toMatchObject({ status: 'failed', error: { code: TASK_TIMEOUT, retryable: true } });
      expect(bodies.signals.get('slow')?.aborted).toBe(true);
      // The body ignores its signal: it still holds the one cpu, so `next` has not started.
      expect(bodies.executing.has('next')).toBe(false);
      bodies.succeed('slow', 'too late');
      await executing(bodies, 'next');
      bodies.succeed('next');
      await listener.finishedOf('next');
      expect(listener.resultsOf('slow')).toHaveLength(1);
      expect(bodies.violations).toEqual([]);
    });

    it('refuses invalid resources and priorities at submit', async () => {
      const { executor } = await started(2);
      await expect(executor.submit(makeJob('negative', { resources: { cpu: -1 } }))).rejects.toMatchObject({
        code: 'BAD_RESOURCES',
      });
      await expect(executor.submit(makeJob('nan', { priorityWeight: Number.NaN }))).rejects.toMatchObject({
        code: 'BAD_PRIORITY',
      });
    });

    it('refuses a second start, and after close refuses work and a new start', async () => {
      const { executor, bodies, listener } = await started(2);
      await expect(executor.start(new RecordingListener())).rejects.toMatchObject({ code: 'EXECUTOR_STARTED' });
      await executor.submit(makeJob('before'));
      await executing(bodies, 'before');
      bodies.succeed('before');
      await listener.finishedOf('before');
      const closing = executor.close();
      expect(executor.close()).toBe(closing);
      await closing;
      await expect(executor.submit(makeJob('late'))).rejects.toMatchObject({ code: 'EXECUTOR_CLOSED' });
      await expect(executor.start(new RecordingListener())).rejects.toMatchObject({ code: 'EXECUTOR_CLOSED' });
      const finished: TaskResult[] = listener.results();
      expect(finished.map((result) => result.job.taskId)).toEqual(['before']);
    });
  });
}
