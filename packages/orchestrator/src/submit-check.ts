// What every Executor refuses at submit, with the same codes and messages whatever runs the attempt.
import type { TaskJob } from '@batuta/scheduler';
import { describeJob } from './attempt-text.js';
import { OrchestratorError } from './errors.js';
import { invalidResourceDimension } from './resources/resources.js';

/**
 * Throws EXECUTOR_CLOSED after close, BAD_RESOURCES for a negative or non-finite resource and BAD_PRIORITY
 * for a non-finite priorityWeight. `executor` names it in messages (`the local executor`).
 */
export function checkSubmittable(job: TaskJob, executor: string, closed: boolean): void {
  if (closed)
    throw new OrchestratorError('EXECUTOR_CLOSED', `cannot submit ${describeJob(job)}: ${executor} is closed`);
  const problem = invalidResourceDimension(job.resources);
  if (problem) throw new OrchestratorError('BAD_RESOURCES', `${describeJob(job)} declares ${problem}`);
  if (!Number.isFinite(job.priorityWeight)) {
    throw new OrchestratorError(
      'BAD_PRIORITY',
      `${describeJob(job)} has priorityWeight ${job.priorityWeight}; use a finite number`,
    );
  }
}
