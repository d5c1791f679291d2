// The figures of one pool that an autoscaler reads: how many jobs wait, run and are delayed, what the
// waiting and running jobs declared they need (a sample), and the workers that would run them all.
import type { ResourceSpec } from '@batuta/scheduler';
import type { Queue } from 'bullmq';
import { parseTaskJob } from '../bullmq/wire.js';
import type { SlotPool, WorkerPool } from '../pools/worker-pool.js';
import { addResources, zeroResources } from '../resources/resources.js';
import { desiredWorkers, type PoolBacklog } from './desired-workers.js';

/** A pool's queue figures at one moment. */
export interface PoolMetrics extends PoolBacklog {
  /** The pool (queue) name. */
  pool: string;
  /** Jobs held back until a time (waiting for slot-pool slots). */
  delayed: number;
  /** Finished jobs still kept in Redis. */
  completed: number;
  failed: number;
  waitingNeeds: ResourceSpec[];
  activeNeeds: ResourceSpec[];
  /** Sum of `waitingNeeds` (the sample): the resources the waiting jobs ask for. */
  waitingDemand: ResourceSpec;
  /** Workers the backlog calls for, within the pool's min/max (when the pool was given). */
  desiredWorkers?: number;
}

/** Options of `poolMetrics`. */
export interface PoolMetricsOptions {
  /** The pool's declaration: with it, `desiredWorkers` is filled in. */
  pool?: WorkerPool;
  slotPools?: readonly SlotPool[];
  /** How many waiting and running jobs' needs are read (default 500 each; the rest is estimated). */
  sample?: number;
}

/** Reads a pool queue's figures (a few Redis calls plus one per sampled job). */
export async function poolMetrics(queue: Queue, options: PoolMetricsOptions = {}): Promise<PoolMetrics> {
  const sample = Math.max(0, options.sample ?? 500);
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
  const needsOf = async (states: Array<'waiting' | 'prioritized' | 'active'>): Promise<ResourceSpec[]> => {
    if (sample === 0) return [];
    const jobs = await queue.getJobs(states, 0, sample - 1, true);
    return jobs.flatMap((job) => {
      const task = job ? parseTaskJob(job.data) : undefined;
      return task ? [task.resources] : [];
    });
  };
  const [waitingNeeds, activeNeeds] = await Promise.all([needsOf(['prioritized', 'waiting']), needsOf(['active'])]);
  const metrics: PoolMetrics = {
    pool: queue.name,
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    completed: counts.completed ?? 0,
    failed: counts.failed ?? 0,
    waitingNeeds,
    activeNeeds,
    waitingDemand: waitingNeeds.reduce((sum, need) => addResources(sum, need), zeroResources()),
  };
  if (options.pool) {
    metrics.desiredWorkers = desiredWorkers(
      options.pool,
      metrics,
      options.slotPools ? { slotPools: options.slotPools } : {},
    );
  }
  return metrics;
}
