// A pool worker ships each attempt's lines to the LogStore while the attempt runs, and stores its last
// lines (with the end mark) before the attempt's report reaches the executor.
import { RedisLogStore, type TaskInvoker, type TaskResult } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { BullmqExecutor } from '../../src/bullmq/bullmq-executor.js';
import { ResourceWorker } from '../../src/bullmq/resource-worker.js';
import { makeJob, RecordingListener } from '../local/harness.js';
import { eventually, pool } from './harness.js';

/** Reads the log the moment the executor hears the attempt finished. */
class ProbeListener extends RecordingListener {
  onFinished: (() => Promise<void>) | undefined;
  override finished(result: TaskResult): void {
    super.finished(result);
    void this.onFinished?.();
  }
}

const redis = useRedisServer();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function setup(invoke: TaskInvoker) {
  const namespace = redis.namespace('worker-logs');
  const pools = [pool('cpu', { cpu: 4, memoryMb: 4096 })];
  const logStore = new RedisLogStore({ url: redis.url, namespace });
  closers.push(() => logStore.close());
  const executor = new BullmqExecutor({ redisUrl: redis.url, namespace, pools });
  closers.push(() => executor.close());
  const listener = new ProbeListener();
  await executor.start(listener);
  const worker = new ResourceWorker({
    redisUrl: redis.url,
    namespace,
    pool: 'cpu',
    capacity: pools[0]!.capacity,
    invoke,
    logStore,
    logFlushEveryMs: 50,
  });
  closers.push(() => worker.close({ drain: false }));
  await worker.start();
  return { executor, listener, logStore };
}

describe('ResourceWorker logs', () => {
  it('stores every line with its stream, and the end mark, before the finished report', async () => {
    let endedWhenReported: boolean | undefined;
    let linesWhenReported = -1;
    const { executor, listener, logStore } = await setup(async (_job, _signal, report) => {
      for (let i = 0; i < 500; i++) report.log(`out ${i}`, 'stdout');
      report.log('problem', 'stderr');
      report.log('note');
      return 'done';
    });
    const job = makeJob('chatty');
    const attempt = { runId: job.runId, taskId: job.taskId, mapIndex: job.mapIndex, tryNumber: job.tryNumber };
    listener.onFinished = async () => {
      const page = await logStore.read(attempt);
      endedWhenReported = page.ended;
      linesWhenReported = page.lines.length;
    };
    await executor.submit(job);
    await eventually(() => endedWhenReported !== undefined, 'the finished report');
    expect(endedWhenReported).toBe(true);
    const page = await logStore.read(attempt);
    expect(linesWhenReported).toBe(page.lines.length);
    const body = page.lines.filter((l) => !l.text.startsWith('[batuta]'));
    expect(body.map((l) => l.text)).toEqual([...Array.from({ length: 500 }, (_, i) => `out ${i}`), 'problem', 'note']);
    expect(body.map((l) => l.stream).slice(-3)).toEqual(['stdout', 'stderr', 'log']);
  });

  it('stores lines while the attempt still runs, not only at its end', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { executor, listener, logStore } = await setup(async (_job, _signal, report) => {
      report.log('before the wait', 'stdout');
      await gate;
      return undefined;
    });
    const job = makeJob('waiting');
    const attempt = { runId: job.runId, taskId: job.taskId, mapIndex: job.mapIndex, tryNumber: job.tryNumber };
    await executor.submit(job);
    await eventually(
      async () => (await logStore.read(attempt)).lines.some((l) => l.text === 'before the wait'),
      'the line written before the wait',
    );
    expect((await logStore.read(attempt)).ended).toBe(false);
    expect(listener.events.some((e) => e.type === 'finished')).toBe(false);
    release();
    await eventually(() => listener.events.some((e) => e.type === 'finished'), 'the finished report');
  });
});
