// The admission rule of a pool worker, pure: whether a fetched job starts, goes back to the queue or can
// never run here, and whether another fetch could bring a job that fits. The worker keeps the memory
// between calls; nothing here touches BullMQ, Redis or the clock.
import type { ResourceSpec } from '@batuta/scheduler';
import { fits, minResources, scaleResources, subtractResources } from './resources.js';

/** What a worker remembers of the jobs it fetched, to decide whether another fetch could pay. */
export interface AdmissionMemory {
  /** The needs of the job last handed back for lack of room; nothing is fetched until they fit. */
  readonly blockedNeed: ResourceSpec | undefined;
  /** Each dimension's smallest need among jobs fetched so far: with less free, no job seen would fit. */
  readonly smallestNeed: ResourceSpec | undefined;
}

/** A worker that has fetched nothing yet. */
export const NO_ADMISSION_MEMORY: AdmissionMemory = { blockedNeed: undefined, smallestNeed: undefined };

/** `start`: reserve and run it; `hand-back`: it fits the worker but not now; `too-big`: it never fits this worker. */
export type Admission = 'start' | 'hand-back' | 'too-big';

/** What to do with a fetched job that needs `need`, and what the worker remembers afterwards. */
export function admitFetched(
  memory: AdmissionMemory,
  need: ResourceSpec,
  free: ResourceSpec,
  capacity: ResourceSpec,
): { admission: Admission; memory: AdmissionMemory } {
  const smallestNeed = memory.smallestNeed ? minResources(memory.smallestNeed, need) : need;
  // A job too big for the worker leaves the blocked head as it was: waiting for it would wait forever.
  if (!fits(need, capacity)) return { admission: 'too-big', memory: { ...memory, smallestNeed } };
  // A big job handed back blocks further fetches until it fits, so smaller jobs behind it cannot starve it.
  if (!fits(need, free)) return { admission: 'hand-back', memory: { blockedNeed: need, smallestNeed } };
  return { admission: 'start', memory: { blockedNeed: undefined, smallestNeed } };
}

/**
 * True when another fetch could bring a job that fits: what is free, less the smallest job seen for each
 * fetch already under way, covers the blocked head (or the smallest job seen). Guessing low only costs a
 * hand-back; guessing high only delays a fetch until the next release.
 */
export function mayFetch(memory: AdmissionMemory, free: ResourceSpec, fetchesInFlight: number): boolean {
  const threshold = memory.blockedNeed ?? memory.smallestNeed;
  if (threshold === undefined) return true;
  const promised =
    memory.smallestNeed && fetchesInFlight > 0 ? scaleResources(memory.smallestNeed, fetchesInFlight) : undefined;
  return fits(threshold, promised ? subtractResources(free, promised) : free);
}
