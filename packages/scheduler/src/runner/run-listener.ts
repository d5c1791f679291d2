import type { DagRunRecord, TaskInstanceRecord } from '../store/state-store.js';

/** What a coordinator reports as runs progress (the CLI's live view listens here). */
export interface RunListener {
  taskChanged?(run: DagRunRecord, instance: TaskInstanceRecord): void;
  runChanged?(run: DagRunRecord): void;
  log?(runId: string, taskId: string, mapIndex: number, message: string): void;
  progress?(runId: string, taskId: string, mapIndex: number, fraction: number): void;
  /** A user callback threw; the run goes on. */
  callbackFailed?(runId: string, what: string, error: unknown): void;
}
