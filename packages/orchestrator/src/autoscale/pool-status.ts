// What a status page or a metrics scrape shows of each worker pool: its per-worker capacity, the workers
// alive on its queue, the jobs waiting and running, and what the running ones were admitted with. One
// BullMQ queue object per pool, kept between reads.
import type { ResourceSpec } from '@batuta/scheduler';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { poolQueue } from '../bullmq/pool-queue.js';
import type { PoolsConfig } from '../pools/worker-pool.js';
import { addResources, zeroResources } from '../resources/resources.js';
import { poolMetrics } from './pool-metrics.js';

/** One pool at one moment. */
export interface PoolStatus {
  pool: string;
  /** What one worker of the pool offers. */
  capacity: ResourceSpec;
  minWorkers: number;
  maxWorkers: number;
  /** Workers connected to the pool's queue now. */
  workersAlive: number;
  /** Jobs waiting for a worker (the queue depth). */
  waiting: number;
  /** Jobs running now. */
  active: number;
  /** Jobs held back until a time. */
  delayed: number;
  /** What the running jobs declared (and were admitted with), summed over a sample of them. */
  admitted: ResourceSpec;
  /** Workers the backlog calls for, within min/max. */
  desiredWorkers: number;
}

/** Options of `PoolStatusReader`. */
export interface PoolStatusReaderOptions {
  /** A connection BullMQ may use (`maxRetriesPerRequest: null`); shared, not closed by the reader. */
  connection: Redis;
  namespace: string;
  pools: PoolsConfig;
  /** How many running jobs' needs are summed per pool (default 500). */
  sample?: number;
}

/** Reads every pool's status; `close()` closes the queue objects it made. */
export class PoolStatusReader {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly options: PoolStatusReaderOptions) {}

  async read(): Promise<PoolStatus[]> {
    const { pools, slotPools } = this.options.pools;
    return Promise.all(
      pools.map(async (pool) => {
        let queue = this.queues.get(pool.name);
        if (!queue) {
          queue = poolQueue(this.options.connection, this.options.namespace, pool.name);
          this.queues.set(pool.name, queue);
        }
        const [workers, metrics] = await Promise.all([
          queue.getWorkers(),
          poolMetrics(queue, { pool, slotPools, sample: this.options.sample ?? 500 }),
        ]);
        return {
          pool: pool.name,
          capacity: pool.capacity,
          minWorkers: pool.minWorkers,
          maxWorkers: pool.maxWorkers,
          workersAlive: workers.length,
          waiting: metrics.waiting,
          active: metrics.active,
          delayed: metrics.delayed,
          admitted: metrics.activeNeeds.reduce((sum, need) => addResources(sum, need), zeroResources()),
          desiredWorkers: metrics.desiredWorkers ?? 0,
        };
      }),
    );
  }

  async close(): Promise<void> {
    const queues = [...this.queues.values()];
    this.queues.clear();
    await Promise.all(queues.map((queue) => queue.close()));
  }
}
