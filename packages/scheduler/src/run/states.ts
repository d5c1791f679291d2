// Task-instance states as small integers, so the engine keeps them in typed arrays.
// Terminal codes are contiguous (>= SUCCESS) to make the terminal test one comparison.
import type { TaskState } from '../dag/model.js';

export const NONE = 0;
export const SCHEDULED = 1;
export const QUEUED = 2;
export const RUNNING = 3;
export const UP_FOR_RETRY = 4;
export const SUCCESS = 5;
export const FAILED = 6;
export const UPSTREAM_FAILED = 7;
export const SKIPPED = 8;
export const REMOVED = 9;

/** State name by code. */
export const STATE_NAMES: readonly TaskState[] = [
  'none',
  'scheduled',
  'queued',
  'running',
  'up_for_retry',
  'success',
  'failed',
  'upstream_failed',
  'skipped',
  'removed',
];

/** State code by name. */
export const STATE_CODES: Readonly<Record<TaskState, number>> = {
  none: NONE,
  scheduled: SCHEDULED,
  queued: QUEUED,
  running: RUNNING,
  up_for_retry: UP_FOR_RETRY,
  success: SUCCESS,
  failed: FAILED,
  upstream_failed: UPSTREAM_FAILED,
  skipped: SKIPPED,
  removed: REMOVED,
};

export function isTerminal(code: number): boolean {
  return code >= SUCCESS;
}

/** An attempt is out with the executor: the only states an outcome may arrive in. */
export function isAttemptActive(code: number): boolean {
  return code === SCHEDULED || code === QUEUED || code === RUNNING;
}
