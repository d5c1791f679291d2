// Worker pools: named groups of identical workers, each offering the same per-worker capacity, and slot
// pools: cluster-wide caps on how many running tasks may use a named resource (Airflow's pools).
import type { ResourceSpec } from '@batuta/scheduler';

/** A named group of identical workers; every worker of the pool offers `capacity`. */
export interface WorkerPool {
  name: string;
  /** What one worker of this pool offers (not the pool's total). */
  capacity: ResourceSpec;
  /** Matched by a task's label selector (every selector entry must be equal here). */
  labels: Record<string, string>;
  minWorkers: number;
  maxWorkers: number;
}

/**
 * A cluster-wide cap: at most `slots` units are held at once by running tasks, whatever worker runs
 * them. A task uses one by declaring a custom resource with the slot pool's name (`db: 1`).
 */
export interface SlotPool {
  name: string;
  slots: number;
}

/** Every pool of a deployment, as the pools file or `definePools` declares them. */
export interface PoolsConfig {
  pools: WorkerPool[];
  slotPools: SlotPool[];
}

/** Pool and slot pool names: letters, digits, `_`, `.` and `-` (no `:`, which Redis keys use as separator). */
export const POOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

/** The names of the slot pools, for the functions that set slot counters apart from per-worker ones. */
export function slotPoolNames(slotPools: readonly SlotPool[] | undefined): ReadonlySet<string> {
  return new Set((slotPools ?? []).map((pool) => pool.name));
}

/** `need` without the counters that are slot pools: what one worker must offer. */
export function workerNeed(need: ResourceSpec, slotPools: ReadonlySet<string>): ResourceSpec {
  if (slotPools.size === 0) return need;
  let custom: Record<string, number> | undefined;
  for (const name in need.custom) {
    if (!slotPools.has(name)) continue;
    custom ??= { ...need.custom };
    delete custom[name];
  }
  return custom ? { ...need, custom } : need;
}

/** The slot-pool counters of `need` with a positive amount, e.g. `{ db: 1 }`; undefined when it uses none. */
export function slotNeed(need: ResourceSpec, slotPools: ReadonlySet<string>): Record<string, number> | undefined {
  let slots: Record<string, number> | undefined;
  for (const name in need.custom) {
    const amount = need.custom[name]!;
    if (amount <= 0 || !slotPools.has(name)) continue;
    slots ??= {};
    slots[name] = amount;
  }
  return slots;
}
