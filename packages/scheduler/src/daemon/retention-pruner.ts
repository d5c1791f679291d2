// Retention: the scheduler removes ended runs older than the retention period in the background, so
// storage stays bounded however long it runs (about 1.9 KB per run otherwise stays forever). Each pass
// removes at most one batch, in one store call, so a large backlog never holds up a fire: it drains
// over the following passes.
import type { LogStore } from '../logs/log-store.js';
import type { PrunedRun, StateStore } from '../store/state-store.js';
import { Cadence } from './cadence.js';
import type { SchedulerLog } from './scheduler-log-event.js';

/** How long ended runs are kept, and how fast the backlog drains. */
export interface RetentionPolicy {
  /** Ended runs (success, failed) older than this are removed with their instances, outputs and leases. */
  runsMs: number;
  /** Runs removed per pass at most; default 500. */
  batchSize?: number;
  /** How often a pass prunes; default 10 s. A pass that removed a full batch prunes again at the next poll. */
  everyMs?: number;
}

const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_EVERY_MS = 10_000;

/** Removes ended runs older than the policy's retention, a bounded batch per pass. */
export class RetentionPruner {
  private readonly store: StateStore;
  private readonly logStore: LogStore | undefined;
  private readonly log: SchedulerLog;
  private readonly runsMs: number;
  private readonly batchSize: number;
  private readonly cadence: Cadence;
  /** The last pass removed a full batch: more is waiting, so the next pass prunes without waiting. */
  private backlog = false;

  constructor(options: { store: StateStore; policy: RetentionPolicy; log: SchedulerLog; logStore?: LogStore }) {
    this.store = options.store;
    this.logStore = options.logStore;
    this.log = options.log;
    this.runsMs = options.policy.runsMs;
    this.batchSize = options.policy.batchSize ?? DEFAULT_BATCH_SIZE;
    this.cadence = new Cadence(options.policy.everyMs ?? DEFAULT_EVERY_MS);
  }

  /** Removes one batch of runs that ended before `nowMs - runsMs`, when due; returns what it removed. */
  async prune(nowMs: number): Promise<PrunedRun[]> {
    if (!this.backlog && !this.cadence.due(nowMs)) return [];
    const pruned = await this.store.pruneRuns({ endedBeforeMs: nowMs - this.runsMs, limit: this.batchSize });
    this.backlog = pruned.length >= this.batchSize;
    if (pruned.length > 0) {
      this.log({ event: 'runs_pruned', count: pruned.length, endedBeforeMs: nowMs - this.runsMs });
    }
    // Task logs go with their runs (they also expire on their own with the same retention).
    if (this.logStore) for (const run of pruned) await this.logStore.removeRun(run.runId);
    return pruned;
  }
}
