// Pool metrics read from a real queue: backlog, declared needs, desired workers.

import { RedisServer } from '@batuta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolMetrics } from '../../src/autoscale/pool-metrics.js';
import { BullmqExecutor } from '../../src/bullmq/bullmq-executor.js';
import { eventually, pool, uniqueNamespace } from '../bullmq/harness.js';
import { makeJob, RecordingListener } from '../local/harness.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});

describe('poolMetrics', () => {
  it('reports the waiting jobs, what they declared, and the workers that would run them', async () => {
    const cpu = { ...pool('cpu', { cpu: 4, memoryMb: 8192 }), minWorkers: 0, maxWorkers: 5 };
    const executor = new BullmqExecutor({ redisUrl: redis.url, namespace: uniqueNamespace('metrics'), pools: [cpu] });
    await executor.start(new RecordingListener());
    try {
      for (let i = 0; i < 6; i++) await executor.submit(makeJob(`small${i}`, { resources: { cpu: 1, memoryMb: 512 } }));
      for (let i = 0; i < 3; i++) await executor.submit(makeJob(`big${i}`, { resources: { cpu: 3, memoryMb: 1024 } }));
      const queue = executor.queue('cpu');
      await eventually(async () => (await poolMetrics(queue)).waiting === 9, 'the jobs to be queued');
      const metrics = await poolMetrics(queue, { pool: cpu });
      expect(metrics).toMatchObject({ pool: 'cpu', waiting: 9, active: 0, delayed: 0 });
      expect(metrics.waitingNeeds).toHaveLength(9);
      expect(metrics.waitingDemand).toMatchObject({ cpu: 15, memoryMb: 6144 });
      // Three 3-cpu jobs take three workers (each with 1 cpu left for three small ones); three more small: one.
      expect(metrics.desiredWorkers).toBe(4);
      expect((await poolMetrics(queue, { pool: cpu, sample: 3 })).desiredWorkers).toBeGreaterThanOrEqual(3);
    } finally {
      await executor.close();
    }
  });
});
