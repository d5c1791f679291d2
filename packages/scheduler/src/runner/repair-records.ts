// The records a repair writes, with no I/O: a planned change (run/repair.ts) applied to an instance
// record. A cleared instance forgets its last attempt's times, worker and error but keeps its try
// number (tries keep counting; earlier tries' logs stay readable by number).
import type { RepairChange } from '../run/repair.js';
import type { DagRunRecord, TaskInstanceRecord } from '../store/state-store.js';

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
