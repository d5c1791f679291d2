// How a thrown value becomes an Outcome: plain data that crosses processes, keeping what the
// scheduler's retry decision reads (`code`, `retryable`, `name`).
import { type Outcome, toTaskError } from '@batuta/scheduler';

/** Error `code` (or class name) a task body throws to skip itself, like Airflow's AirflowSkipException. */
export const TASK_SKIPPED = 'TASK_SKIPPED';

/** The outcome of a body that threw: `skipped` for `name === 'TaskSkipped'` or `code === 'TASK_SKIPPED'`, else `failed`. */
export function outcomeOfThrown(thrown: unknown): Outcome {
  const error = toTaskError(thrown);
  if (error.name === 'TaskSkipped' || error.code === TASK_SKIPPED) {
    return { status: 'skipped', reason: error.message || 'the task skipped itself' };
  }
  return { status: 'failed', error };
}
