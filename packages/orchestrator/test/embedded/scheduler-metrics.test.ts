// createScheduler's metricsPort against a private Redis: a scrape after a run shows runs by DAG and state,
// task durations, fire lateness, store round trips, and the pool's queue depth, workers and admitted
// resources, with plausible values.
import { defineDag } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import { createScheduler } from '../../src/index.js';

const redis = useRedisServer();

const metered = defineDag({ id: 'metered' }, (dag) => {
  const first = dag.task('first', { resources: { cpu: 1, memoryMb: 64 }, run: () => 1 });
  return [first, dag.task('second', { upstream: [first], resources: { cpu: 1, memoryMb: 64 }, run: () => 2 })];
});

const pools = [
  {
    name: 'default',
    capacity: { cpu: 2, memoryMb: 512, gpu: 0, custom: {} },
    labels: {},
    minWorkers: 1,
    maxWorkers: 3,
  },
];

/** The value of one sample line of a scrape (NaN when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

describe('scheduler metrics', () => {
  it('serves runs, task durations, store round trips and pool figures at /metrics', async () => {
    const scheduler = createScheduler({
      redisUrl: redis.url,
      namespace: redis.namespace('metrics'),
      dags: [metered],
      pools,
      workers: true,
      metricsPort: 0,
      metricsHost: '127.0.0.1',
    });
    await scheduler.start();
    try {
      const url = scheduler.metricsUrl();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const finished = (async () => {
        for await (const event of scheduler.events()) if (event.event === 'run_finished') return event;
        return undefined;
      })();
      await scheduler.trigger('metered');
      expect((await finished)?.state).toBe('success');
      const text = await (await fetch(url!)).text();
      expect(sample(text, 'batuta_runs_total{dag="metered",state="success"}')).toBe(1);
      expect(sample(text, 'batuta_runs_total{dag="metered",state="running"}')).toBe(1);
      expect(sample(text, 'batuta_task_duration_seconds_count{dag="metered",task="second",state="success"}')).toBe(1);
      expect(
        sample(text, 'batuta_task_duration_seconds_sum{dag="metered",task="second",state="success"}'),
      ).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'batuta_store_round_trip_seconds_count{operation="applyTransition"}')).toBeGreaterThan(0);
      expect(sample(text, 'batuta_pool_workers_alive{pool="default"}')).toBe(1);
      expect(sample(text, 'batuta_pool_queue_depth{pool="default"}')).toBe(0);
      expect(sample(text, 'batuta_pool_capacity_per_worker{pool="default",resource="cpu"}')).toBe(2);
      expect(sample(text, 'batuta_pool_admitted_resources{pool="default",resource="cpu"}')).toBe(0);
      expect(sample(text, 'batuta_worker_admitted_resources{pool="default",resource="cpu"}')).toBe(0);
      expect(sample(text, 'batuta_worker_attempts_total{pool="default",outcome="success"}')).toBe(2);
      expect(text).toContain('# TYPE batuta_scheduler_fire_lateness_seconds histogram');
    } finally {
      await scheduler.stop();
    }
  }, 60_000);
});
