// Retry policy arithmetic: how long to wait before the next attempt, and whether there is one.
// Pure and deterministic: the jitter comes from a hash of the attempt's identity, so replaying a
// decision after a crash gives the same delay.
import type { RetryPolicy, TaskError } from '../dag/model.js';
import { fnv1a32 } from '../util/fnv1a.js';

// Re-exported where it used to live, so existing importers keep one hash, not a copy.
export { fnv1a32 };

/** Airflow's global cap on one retry delay. */
export const MAX_RETRY_DELAY_MS = 86_400_000;

/** Which attempt failed; `tryNumber` is 1-based. */
export interface AttemptIdentity {
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
}

/**
 * The delay before retrying after attempt `at.tryNumber` failed. Fixed: `delayMs`. Exponential:
 * m = ceil(delayMs · 2^(try−1)), with jitter a deterministic value in [m, 2m). Every delay is capped
 * by min(maxDelayMs, 24 h).
 */
export function retryDelayMs(policy: RetryPolicy, at: AttemptIdentity): number {
  const cap = Math.min(nonNegative(policy.maxDelayMs, MAX_RETRY_DELAY_MS), MAX_RETRY_DELAY_MS);
  const base = nonNegative(policy.delayMs, 0);
  let delay: number;
  if (policy.backoff === 'exponential') {
    const exponent = Math.max(0, Math.floor(at.tryNumber) - 1);
    const minimum = Math.ceil(base * 2 ** exponent);
    // Past the cap the jitter would be cut off anyway; skip the hash.
    if (policy.jitter && minimum > 0 && minimum < cap) {
      const fraction = fnv1a32(`${at.runId}|${at.taskId}|${at.mapIndex}|${at.tryNumber}`) / 4_294_967_296;
      delay = minimum + Math.floor(fraction * minimum);
    } else {
      delay = minimum;
    }
  } else {
    delay = base;
  }
  return Math.min(delay, cap);
}

/** Whether attempt `tryNumber` (1-based) that failed with `error` gets another attempt, and why. */
export function shouldRetry(
  policy: RetryPolicy,
  tryNumber: number,
  error: TaskError,
): { retry: boolean; reason: string } {
  if (error.retryable === false) {
    return { retry: false, reason: 'not retried: the error is marked not retryable' };
  }
  const listed = policy.nonRetryable.find((entry) => entry === error.code || entry === error.name);
  if (listed !== undefined) {
    return { retry: false, reason: `not retried: '${listed}' is in the task's nonRetryable list` };
  }
  const maxTries = Math.max(0, Math.floor(policy.retries)) + 1;
  if (tryNumber >= maxTries) {
    return {
      retry: false,
      reason:
        maxTries === 1
          ? 'not retried: the task has no retries'
          : `not retried: all ${maxTries} tries used (retries: ${maxTries - 1})`,
    };
  }
  return { retry: true, reason: `try ${tryNumber} of ${maxTries} failed; ${maxTries - tryNumber} left` };
}

function nonNegative(value: number, fallback: number): number {
  return Number.isNaN(value) ? fallback : Math.max(0, value);
}
