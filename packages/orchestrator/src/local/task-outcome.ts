// How a thrown value becomes an Outcome: plain data that crosses processes, keeping what the
// scheduler's retry decision reads (`code`, `retryable`, `name`).
import type { Outcome, TaskError } from '@batuta/scheduler';

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

/** A thrown value as a plain TaskError, keeping `message`, `name`, `code` (numbers become strings), `retryable` and `stack`. */
export function toTaskError(thrown: unknown): TaskError {
  if (typeof thrown !== 'object' || thrown === null) return { message: String(thrown) };
  const source = thrown as { message?: unknown; name?: unknown; code?: unknown; retryable?: unknown; stack?: unknown };
  const error: TaskError = { message: typeof source.message === 'string' ? source.message : describe(thrown) };
  if (typeof source.name === 'string') error.name = source.name;
  if (typeof source.code === 'string' || typeof source.code === 'number') error.code = String(source.code);
  if (typeof source.retryable === 'boolean') error.retryable = source.retryable;
  if (typeof source.stack === 'string') error.stack = source.stack;
  return error;
}

function describe(value: object): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
