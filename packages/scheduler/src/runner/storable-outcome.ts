// Outputs travel through the store as JSON. A success whose output cannot be stored is turned into a
// non-retryable failure naming the path of the bad value, wherever the attempt ran (the coordinator,
// or a worker before it reports), so the store never refuses a run's transition for it.

import type { Outcome } from '../run/types.js';
import { toStoredJson } from '../store/json-value.js';
import { taskError } from '../task-error.js';

/** `outcome` itself when it can be stored; else the failure STORE_NOT_SERIALIZABLE with the value's path. */
export function storableOutcome(outcome: Outcome, taskId: string, mapIndex: number): Outcome {
  if (outcome.status !== 'success' || outcome.output === undefined) return outcome;
  try {
    toStoredJson(outcome.output, `the output of task '${mapIndex >= 0 ? `${taskId}#${mapIndex}` : taskId}'`);
    return outcome;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: 'failed',
      error: taskError(message, { name: 'BatutaError', code: 'STORE_NOT_SERIALIZABLE', retryable: false }),
    };
  }
}
