// The outcomes a pool worker reports on its own account (the body did not decide them): a job lost with
// its worker, too big for this worker, cancelled before it ran, stopped by a timeout or a cancellation,
// or whose output the store could not keep.
import {
  type Outcome,
  type TASK_CANCELLED,
  TASK_TIMEOUT,
  type TaskError,
  type TaskJob,
  toStoredJson,
} from '@batuta/scheduler';
import { describeJob } from '../attempt-text.js';
import { formatResources } from '../resources/resources.js';

/** Error code of an attempt whose worker died or stopped renewing its lock. Retryable. */
export const WORKER_LOST = 'WORKER_LOST';
/** Error code of a job whose needs exceed this worker's whole capacity. Not retryable. */
export const NO_CAPACITY_FITS = 'NO_CAPACITY_FITS';

/** The job's worker died or stopped renewing its lock; the scheduler retries it under the next try. */
export function lostWithWorkerError(task: TaskJob): TaskError {
  return {
    message:
      `${describeJob(task)} was lost with its worker (its lock expired: the worker was killed or blocked ` +
      `for longer than the lock duration); the attempt counts as failed`,
    name: 'WorkerLostError',
    code: WORKER_LOST,
    retryable: true,
  };
}

/** The job needs more than this worker has in all: no retry on a worker like it can help. */
export function tooBigError(
  task: TaskJob,
  need: TaskJob['resources'],
  worker: { name: string; pool: string; capacity: TaskJob['resources'] },
): TaskError {
  return {
    message:
      `${describeJob(task)} needs ${formatResources(need)} but worker '${worker.name}' of pool '${worker.pool}' ` +
      `offers ${formatResources(worker.capacity)} in all; give the pool's workers the pool's capacity`,
    name: 'OrchestratorError',
    code: NO_CAPACITY_FITS,
    retryable: false,
  };
}

/** A running attempt ended early: a timeout is retryable, a cancellation is not. */
export function stoppedError(
  task: TaskJob,
  code: typeof TASK_TIMEOUT | typeof TASK_CANCELLED,
  why: string,
): TaskError & { code: string } {
  const timeout = code === TASK_TIMEOUT;
  return {
    message: `${describeJob(task)} ${why}`,
    name: timeout ? 'TaskTimeoutError' : 'TaskCancelledError',
    code,
    retryable: timeout,
  };
}

/** A success whose output the store can keep; else the failure the coordinator would have made of it. */
export function storableOutcome(output: unknown, task: TaskJob): Outcome {
  if (output === undefined) return { status: 'success', output };
  try {
    toStoredJson(output, `the output of ${describeJob(task)}`);
    return { status: 'success', output };
  } catch (error) {
    return {
      status: 'failed',
      error: {
        message: (error as Error).message,
        name: 'BatutaError',
        code: 'STORE_NOT_SERIALIZABLE',
        retryable: false,
      },
    };
  }
}

/** An Error for BullMQ's failed list: the message and name; the full TaskError travels in the report. */
export function bullmqErrorOf(taskError: TaskError): Error {
  const error = new Error(taskError.message);
  if (taskError.name) error.name = taskError.name;
  if (taskError.stack) error.stack = taskError.stack;
  return error;
}
