// The BullmqExecutor, with one ResourceWorker of the pool, passes the Executor contract against a private
// redis-server.

import { RedisServer } from '@batuta/testing';
import { afterAll, beforeAll } from 'vitest';
import { BullmqExecutor } from '../../src/bullmq/bullmq-executor.js';
import { ResourceWorker } from '../../src/bullmq/resource-worker.js';
import { executorContract } from '../contracts/executor.contract.js';
import { eventually, uniqueNamespace } from './harness.js';

let redis: RedisServer;

beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis.stop();
});

executorContract('bullmq', async ({ capacity, invoke }) => {
  const namespace = uniqueNamespace('contract');
  const pool = { name: 'cpu', capacity, labels: {}, minWorkers: 1, maxWorkers: 1 };
  const executor = new BullmqExecutor({ redisUrl: redis.url, namespace, pools: [pool] });
  const worker = new ResourceWorker({ redisUrl: redis.url, namespace, pool: pool.name, capacity, invoke });
  await worker.start();
  return {
    executor,
    async queued(count) {
      const queue = executor.queue(pool.name);
      await eventually(async () => {
        const counts = await queue.getJobCounts('prioritized', 'waiting');
        return (counts.prioritized ?? 0) + (counts.waiting ?? 0) >= count;
      }, `${count} queued attempts`);
    },
    dispose: () => worker.close({ drain: false }),
  };
});
