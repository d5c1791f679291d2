// The records a repair writes, with no I/O: a planned change (run/repair.ts) applied to an instance
// record. A cleared instance forgets its last attempt's times, worker and error but keeps its try
// number (tries keep counting; earlier tries' logs stay readable by number).
import type { RepairChange, RepairPlan } from '../run/repair.js';
import { type DagRunRecord, outputKey, type TaskInstanceRecord, type Transition } from '../store/state-store.js';

/** Sets `record` to what `change` makes of it, in place. */
export function applyRepairChange(record: TaskInstanceRecord, change: RepairChange, nowMs: number): void {
  record.state = change.to;
  record.reason = change.reason;
  record.tryNumber = change.tryNumber;
  delete record.nextTryAtMs;
  if (change.to === 'none' || change.to === 'running') {
    delete record.queuedMs;
    delete record.startMs;
    delete record.endMs;
    delete record.error;
    delete record.worker;
  } else {
    record.endMs = nowMs;
    if (change.to !== 'failed') delete record.error;
  }
  if (change.triesBeforeClear !== undefined) record.triesBeforeClear = change.triesBeforeClear;
}

/** The run's patch when a repair reopens it: running again, its end forgotten until it ends again. */
export function reopenedRunPatch(reason: string): Partial<Omit<DagRunRecord, 'runId' | 'dagId'>> {
  // An undefined field removes it from the stored record (both stores do so).
  return { state: 'running', reason, endMs: undefined } as unknown as Partial<Omit<DagRunRecord, 'runId' | 'dagId'>>;
}

/** The stored outputs a repair's writes are made from: the kept instance outputs of its aggregates. */
export function repairOutputReads(plan: RepairPlan): Array<{ taskId: string; mapIndex: number }> {
  const reads: Array<{ taskId: string; mapIndex: number }> = [];
  for (const { taskId, entries } of plan.aggregates) {
    for (const entry of entries) if (entry.kept) reads.push({ taskId, mapIndex: entry.mapIndex });
  }
  return reads;
}

/**
 * The outputs a repair writes with its instances. A mapped instance marked success produced nothing: its
 * output is null (not an output left from an earlier try), so the aggregate the engine makes when its group
 * completes has null in its place. A mapped task marked success whole gets its aggregate output at once
 * (ADR 005), made from `stored` (read with repairOutputReads).
 */
export function repairOutputWrites(
  plan: RepairPlan,
  stored: ReadonlyMap<string, unknown>,
): NonNullable<Transition['outputs']> {
  const writes: NonNullable<Transition['outputs']> = [];
  for (const change of plan.changes) {
    if (change.mapIndex >= 0 && change.to === 'success') {
      writes.push({ taskId: change.taskId, mapIndex: change.mapIndex, value: null });
    }
  }
  for (const { taskId, entries } of plan.aggregates) {
    const value = entries.map((entry) => (entry.kept ? (stored.get(outputKey(taskId, entry.mapIndex)) ?? null) : null));
    writes.push({ taskId, mapIndex: -1, value });
  }
  return writes;
}
