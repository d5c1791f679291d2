import { BatutaError } from '@batuta/scheduler';

/** Every code an error of @batuta/orchestrator carries: a closed set. */
export type OrchestratorErrorCode =
  | 'BAD_CAPACITY'
  | 'BAD_COMMAND'
  | 'BAD_NAMESPACE'
  | 'BAD_POOL_NAME'
  | 'BAD_PRIORITY'
  | 'BAD_RESOURCES'
  | 'BULLMQ_UNSUPPORTED'
  | 'EXECUTOR_CLOSED'
  | 'EXECUTOR_STARTED'
  | 'FILE_NOT_FOUND'
  | 'NO_BACKLOG'
  | 'NO_CAPACITY_FITS'
  | 'NO_POOL_FITS'
  | 'NO_POOLS'
  | 'POOLS_INVALID'
  | 'SCALER_STOPPED'
  | 'SCHEDULER_NOT_STARTED'
  | 'SCHEDULER_STOPPED'
  | 'SLOT_POOL_TOO_SMALL'
  | 'TASK_CANCELLED'
  | 'TASK_TIMEOUT'
  | 'UNKNOWN_DAG'
  | 'UNKNOWN_POOL'
  | 'WORKER_CLOSING'
  | 'WORKER_LOST'
  | 'WORKER_STARTED';

/** The base class of every error @batuta/orchestrator throws; `code` is stable and machine-readable. */
export class OrchestratorError extends BatutaError<OrchestratorErrorCode> {
  constructor(code: OrchestratorErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'OrchestratorError';
  }
}
