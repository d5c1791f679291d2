// Small helpers the executor and the worker share: how an attempt is named in messages, and how a
// listener is called without letting its exceptions break our bookkeeping.
import type { TaskJob } from '@batuta/scheduler';

/** `task 'score' [3] of run 'r1'`, for messages. */
export function describeJob(job: Pick<TaskJob, 'taskId' | 'mapIndex' | 'runId'>): string {
  return `task '${job.taskId}'${job.mapIndex >= 0 ? ` [${job.mapIndex}]` : ''} of run '${job.runId}'`;
}

/** Calls a listener; an exception there is its own bug, rethrown out of band so our state stays whole. */
export function notify(call: () => void): void {
  try {
    call();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
