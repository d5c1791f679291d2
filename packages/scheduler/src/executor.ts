// The Executor port: the scheduler hands task attempts to an executor and hears back when they
// start and finish. The embedded (local) executor and the BullMQ executor both implement it.
import type { ResourceSpec } from './dag/model.js';
import type { LogStream } from './logs/log-store.js';
import type { Outcome } from './run/types.js';

/** One attempt of one task instance, as handed to an executor. Plain data: it crosses processes. */
export interface TaskJob {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
  resources: ResourceSpec;
  pool?: string;
  priorityWeight: number;
  timeoutMs?: number;
  item?: Record<string, unknown>;
}

/** How an attempt ended, with its timing. */
export interface TaskResult {
  job: TaskJob;
  outcome: Outcome;
  startedMs: number;
  endedMs: number;
  worker?: string;
}

/** What an executor tells its owner. */
export interface ExecutorListener {
  started(job: TaskJob, atMs: number, worker?: string): void;
  finished(result: TaskResult): void;
  /** Optional live progress in [0, 1] and log lines. */
  progress?(job: TaskJob, fraction: number): void;
  log?(job: TaskJob, message: string, stream?: LogStream): void;
}

/** The port. */
export interface Executor {
  start(listener: ExecutorListener): Promise<void>;
  /** Queues an attempt; it starts when resources allow. */
  submit(job: TaskJob): Promise<void>;
  /** Stops queued and running attempts of a run (or of one task, instance or attempt of it); returns how many were stopped. */
  cancel(
    filter: { runId: string; taskId?: string; mapIndex?: number; tryNumber?: number },
    reason: string,
  ): Promise<number>;
  close(): Promise<void>;
}

/** Runs one attempt's body and returns its output; used by in-process executors and workers. */
export type TaskInvoker = (
  job: TaskJob,
  signal: AbortSignal,
  report: { log: (message: string, stream?: LogStream) => void; progress: (fraction: number) => void },
) => Promise<unknown>;

/** Thrown (or reported) when an attempt exceeds its timeout. Retryable, like Airflow's execution_timeout. */
export const TASK_TIMEOUT = 'TASK_TIMEOUT';
/** Reported when an attempt was cancelled. Not retried. */
export const TASK_CANCELLED = 'TASK_CANCELLED';
