// How the live schedulers split the time-scheduled DAGs among themselves (ADR 008). The split only
// orders the work: every scheduler still creates every due run, the other shares a grace later.
import { fnv1a32 } from '../util/fnv1a.js';

/** One scheduler's view of the split: who it is, who is alive (sorted), and how long it defers the others. */
export interface FireShares {
  schedulerId: string;
  /** The live schedulers, sorted, this one included; empty before the first look (alone, then). */
  live: readonly string[];
  /** How long after a fire this scheduler waits before creating the runs of another share. */
  graceMs: number;
}

/** True when `dagId` falls in this scheduler's share (every DAG when it is alone). */
export function isInShare(dagId: string, shares: FireShares): boolean {
  const { live, schedulerId } = shares;
  if (live.length <= 1) return true;
  return fnv1a32(dagId) % live.length === live.indexOf(schedulerId);
}
