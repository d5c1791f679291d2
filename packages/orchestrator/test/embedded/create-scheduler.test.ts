import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineDag, isBatutaError, RedisStateStore, type SchedulerLogEvent } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createScheduler } from '../../src/index.js';

const redis = useRedisServer();

const greet = defineDag({ id: 'greet', params: z.object({ name: z.string().default('world') }) }, (dag) => [
  dag.task('hello', { resources: { cpu: 1, memoryMb: 64 }, run: ({ params }) => `hello ${params.name}` }),
]);

const pools = [
  {
    name: 'default',
    capacity: { cpu: 2, memoryMb: 512, gpu: 0, custom: {} },
    labels: {},
    minWorkers: 1,
    maxWorkers: 1,
  },
];

describe('createScheduler', () => {
  it('runs a triggered DAG through its in-process workers and reports it on the event stream', async () => {
    const namespace = redis.namespace();
    const scheduler = createScheduler({ redisUrl: redis.url, namespace, dags: [greet], pools, workers: true });
    const seen: SchedulerLogEvent[] = [];
    scheduler.on('log', (event) => seen.push(event));
    const events = scheduler.events();
    await scheduler.start();
    const runId = await scheduler.trigger('greet', { name: 'batuta' });
    let finished: SchedulerLogEvent | undefined;
    for await (const event of events) {
      if (event.event === 'run_finished' && event.runId === runId) {
        finished = event;
        break;
      }
    }
    expect(finished?.state).toBe('success');
    expect(seen.some((event) => event.event === 'dags_loaded')).toBe(true);
    await scheduler.stop();
    const store = await RedisStateStore.connect({ url: redis.url, namespace });
    try {
      const outputs = await store.getOutputs(runId, [{ taskId: 'hello', mapIndex: -1 }]);
      expect([...outputs.values()]).toEqual(['hello batuta']);
    } finally {
      await store.close();
    }
  });

  it('ends its event iterators when stopped once, and refuses a trigger before start or of an unknown DAG, and a restart', async () => {
    const scheduler = createScheduler({ redisUrl: redis.url, namespace: redis.namespace(), dags: [greet], pools });
    await expect(scheduler.trigger('greet')).rejects.toSatisfy((error) =>
      isBatutaError(error, 'SCHEDULER_NOT_STARTED'),
    );
    await scheduler.start();
    await expect(scheduler.trigger('nope')).rejects.toSatisfy((error) => isBatutaError(error, 'UNKNOWN_DAG'));
    const drained = (async () => {
      const names: string[] = [];
      for await (const event of scheduler.events()) names.push(event.event);
      return names;
    })();
    await scheduler.stop();
    expect(await drained).toContain('scheduler_stopped');
    await scheduler.stop();
    await expect(scheduler.start()).rejects.toSatisfy((error) => isBatutaError(error, 'SCHEDULER_STOPPED'));
  });

  it('loads a folder of DAG files and runs a DAG from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'batuta-embedded-'));
    try {
      writeFileSync(join(dir, 'noop.yaml'), 'id: noop\ntasks:\n  only: { operator: empty }\n');
      const scheduler = createScheduler({
        redisUrl: redis.url,
        namespace: redis.namespace(),
        dags: dir,
        pools,
        workers: true,
      });
      const loaded: SchedulerLogEvent[] = [];
      scheduler.on('log', (event) => {
        if (event.event === 'dag_file_loaded') loaded.push(event);
      });
      const events = scheduler.events();
      await scheduler.start();
      expect(loaded.map((event) => event.dagIds)).toEqual([['noop']]);
      const runId = await scheduler.trigger('noop');
      for await (const event of events) {
        if (event.event === 'run_finished' && event.runId === runId) {
          expect(event.state).toBe('success');
          break;
        }
      }
      await scheduler.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses at start a DAG whose task fits no pool', async () => {
    const huge = defineDag({ id: 'huge' });
    huge.task('big', { resources: { cpu: 64 }, run: () => 1 });
    const scheduler = createScheduler({ redisUrl: redis.url, namespace: redis.namespace(), dags: [huge], pools });
    await expect(scheduler.start()).rejects.toSatisfy((error) => isBatutaError(error, 'NO_POOL_FITS'));
    await scheduler.stop();
  });
});
