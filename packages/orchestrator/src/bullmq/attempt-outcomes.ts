// The outcomes a pool worker reports on its own account (the body did not decide them): a job lost with
// its worker, too big for this worker, cancelled before it ran, stopped by a timeout or a cancellation,
// or whose output the store could not keep.
import { type TASK_CANCELLED, TASK_TIMEOUT, type TaskError, type TaskJob, taskError } from '@batuta/scheduler';
import { describeJob } from '../attempt-text.js';
import { formatResources } from '../resources/resources.js';

/** Error code of an attempt whose worker died or stopped renewing its lock. Retryable. */
export const WORKER_LOST = 'WORKER_LOST';
/** Error code of a job whose needs exceed this worker's whole capacity. Not retryable. */
export const NO_CAPACITY_FITS = 'NO_CAPACITY_FITS';

/** The job's worker died or stopped renewing its lock; the scheduler retries it under the next try. */
export function lostWithWorkerError(task: TaskJob): TaskError {
  return taskError(
    `${describeJob(task)} was lost with its worker (its lock expired: the worker was killed or blocked ` +
      `for longer than the lock duration); the attempt counts as failed`,
    { name: 'WorkerLostError', code: WORKER_LOST, retryable: true },
  );
}

/** The job needs more than this worker has in all: no retry on a worker like it can help. */
export function tooBigError(
  task: TaskJob,
  need: TaskJob['resources'],
  worker: { name: string; pool: string; capacity: TaskJob['resources'] },
): TaskError {
  return taskError(
    `${describeJob(task)} needs ${formatResources(need)} but worker '${worker.name}' of pool '${worker.pool}' ` +
      `offers ${formatResources(worker.capacity)} in all; give the pool's workers the pool's capacity`,
    { name: 'OrchestratorError', code: NO_CAPACITY_FITS, retryable: false },
  );
}

/** A running attempt ended early: a timeout is retryable, a cancellation is not. */
export function stoppedError(
  task: TaskJob,
  code: typeof TASK_TIMEOUT | typeof TASK_CANCELLED,
  why: string,
): TaskError & { code: string } {
  const timeout = code === TASK_TIMEOUT;
  const name = timeout ? 'TaskTimeoutError' : 'TaskCancelledError';
  return { ...taskError(`${describeJob(task)} ${why}`, { name, retryable: timeout }), code };
}

/** An Error for BullMQ's failed list: the message and name; the full TaskError travels in the report. */
export function bullmqErrorOf(taskError: TaskError): Error {
  const error = new Error(taskError.message);
  if (taskError.name) error.name = taskError.name;
  if (taskError.stack) error.stack = taskError.stack;
  return error;
}
