// How many workers a pool should have, pure: enough workers of the pool's capacity to run the whole
// backlog (waiting and running jobs) at once, packed by their declared needs, bounded by min/max.
import type { ResourceSpec } from '@batuta/scheduler';
import { type SlotPool, slotPoolNames, type WorkerPool, workerNeed } from '../pools/worker-pool.js';
import { addResources, fits, subtractResources, zeroResources } from '../resources/resources.js';

/** What a pool has to run, as its queue shows it. */
export interface PoolBacklog {
  /** Jobs waiting to start (not counting delayed ones). */
  waiting: number;
  /** Jobs running now. */
  active: number;
  /** Declared needs of the waiting jobs: all of them, or a sample (the first in queue order). */
  waitingNeeds?: readonly ResourceSpec[];
  /** Declared needs of the running jobs: all of them, or a sample. */
  activeNeeds?: readonly ResourceSpec[];
}

/**
 * Desired workers for `pool`: the workers of its per-worker capacity that would run every waiting and
 * running job at once (first-fit decreasing on the jobs' declared needs), bounded by
 * `[minWorkers, maxWorkers]`. Jobs whose needs are not given are assumed to need the average of those
 * given; with no needs given at all, each job is assumed to take a whole worker (scales up generously).
 * Needs that no worker of the pool can hold are left out: they never run there. Slot-pool counters do
 * not take worker capacity.
 */
export function desiredWorkers(
  pool: WorkerPool,
  backlog: PoolBacklog,
  options: { slotPools?: readonly SlotPool[] } = {},
): number {
  const jobs = Math.max(0, backlog.waiting) + Math.max(0, backlog.active);
  const bound = (count: number) => Math.min(pool.maxWorkers, Math.max(pool.minWorkers, count));
  if (jobs === 0) return bound(0);
  const slotNames = slotPoolNames(options.slotPools);
  const known = [
    ...(backlog.waitingNeeds ?? []).slice(0, Math.max(0, backlog.waiting)),
    ...(backlog.activeNeeds ?? []).slice(0, Math.max(0, backlog.active)),
  ]
    .map((need) => workerNeed(need, slotNames))
    .filter((need) => fits(need, pool.capacity));
  if (known.length === 0) return bound(jobs);
  const packed = packedWorkers(known, pool.capacity);
  // The sample stands for all jobs: scale its worker count by how many jobs it represents.
  return bound(Math.ceil(packed * (jobs / known.length)));
}

/** Workers of `capacity` that hold all `needs` at once, by first-fit decreasing on the dominant share. */
export function packedWorkers(needs: readonly ResourceSpec[], capacity: ResourceSpec): number {
  const sorted = [...needs].sort((a, b) => dominantShare(b, capacity) - dominantShare(a, capacity));
  const free: ResourceSpec[] = [];
  for (const need of sorted) {
    const worker = free.findIndex((left) => fits(need, left));
    if (worker >= 0) free[worker] = subtractResources(free[worker]!, need);
    else free.push(subtractResources(addResources(zeroResources(), capacity), need));
  }
  return free.length;
}

/** The largest share of any dimension of `capacity` that `need` takes (0 for an empty need). */
function dominantShare(need: ResourceSpec, capacity: ResourceSpec): number {
  const share = (needed: number, offered: number) => (offered > 0 ? needed / offered : 0);
  let largest = Math.max(
    share(need.cpu, capacity.cpu),
    share(need.memoryMb, capacity.memoryMb),
    share(need.gpu, capacity.gpu),
  );
  for (const name in need.custom) largest = Math.max(largest, share(need.custom[name]!, capacity.custom[name] ?? 0));
  return largest;
}
