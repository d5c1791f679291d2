// The vocabulary of the pure run engine: what happened (outcomes) and what to do (decisions).
import type { TaskError, TaskState } from '../dag/model.js';

/** Identifies one task instance in a run. `mapIndex` is -1 for an unmapped task (and a mapped task's parent). */
export interface InstanceKey {
  taskId: string;
  mapIndex: number;
}

/** How an attempt ended, as reported by an executor. */
export type Outcome =
  | { status: 'success'; output: unknown }
  | { status: 'failed'; error: TaskError }
  /** The task skipped itself (Airflow's AirflowSkipException). */
  | { status: 'skipped'; reason: string };

/** What the engine decides; adapters apply decisions in order. Every decision carries a human reason. */
export type Decision =
  /** Start this attempt now. `item` is the mapped element for a mapped instance. */
  | {
      kind: 'run';
      taskId: string;
      mapIndex: number;
      tryNumber: number;
      item: Record<string, unknown> | undefined;
      reason: string;
    }
  /**
   * The engine set this state itself (auto-mark, cascade, branch skip, run cancel, mapped aggregate…).
   * A mapped task's parent marked success carries `output`: the list of its successful instances'
   * outputs in mapIndex order (an instance that returned nothing gives null), to be stored as its output.
   */
  | { kind: 'mark'; taskId: string; mapIndex: number; state: TaskState; reason: string; output?: unknown[] }
  /** The attempt failed and will be retried: the instance is up_for_retry until `atMs`, then call `retryDue`. */
  | {
      kind: 'retry';
      taskId: string;
      mapIndex: number;
      nextTryNumber: number;
      atMs: number;
      delayMs: number;
      reason: string;
    }
  /** A mapped task expanded into `count` instances (mapIndex 0..count-1). */
  | { kind: 'expand'; taskId: string; count: number; reason: string }
  /** Every task is terminal: the run ended. */
  | { kind: 'finish'; state: 'success' | 'failed'; reason: string };

/** One task instance as the engine tracks it (and as a store persists it). */
export interface InstanceSnapshot {
  taskId: string;
  mapIndex: number;
  state: TaskState;
  /** The current or last attempt's number (1-based); 0 before the first attempt. */
  tryNumber: number;
  reason: string;
  nextTryAtMs?: number;
  error?: TaskError;
  /** Tries made before the instance was last cleared; its retries count from there (absent: never cleared). */
  triesBeforeClear?: number;
}
