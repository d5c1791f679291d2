// How a ResourceWorker is set up, what it tells its owner, and how it closes: the worker's public surface
// apart from the class itself.
import type { LogStore, Outcome, ResourceSpec, TaskInvoker, TaskJob } from '@batuta/scheduler';
import type { SlotPool } from '../pools/worker-pool.js';
import type { ConnectionOptions } from './connection.js';

/** How a ResourceWorker is set up. */
export interface ResourceWorkerOptions {
  redisUrl: string;
  namespace: string;
  /** The pool (BullMQ queue) this worker serves. */
  pool: string;
  /** What this worker offers (the pool's per-worker capacity, or what `--capacity` says). */
  capacity: ResourceSpec;
  /** Runs one attempt's body. */
  invoke: TaskInvoker;
  /**
   * Where each attempt's output lines (stdout, stderr, `log()`, `console`) are stored, in batches while it
   * runs and all of them before its report; without one they are dropped.
   */
  logStore?: LogStore;
  /** Longest a line waits before it is sent to the log store: what a killed worker loses (default 250 ms). */
  logFlushEveryMs?: number;
  /** Reported with each attempt; default `<host>:<pid>:<pool>`. */
  name?: string;
  /** Slot pools (cluster-wide caps); a task's counter with a slot pool's name takes its slots. */
  slotPools?: readonly SlotPool[];
  /**
   * How long a fetched job stays locked without renewal (renewed every half of it while it runs). A worker
   * that stops renewing (killed, or its event loop blocked this long) loses the job: default 30 s.
   */
  lockDurationMs?: number;
  /**
   * How long an attempt whose lock was lost (Redis away longer than the lock lasts) keeps running, so its
   * report can still count once Redis is back (default 5 min). Executors should use the same value.
   */
  outageGraceMs?: number;
  /** How long this worker's alive key lasts; refreshed every third of it (default 10 s). */
  aliveTtlMs?: number;
  /** How often this worker looks for jobs whose worker died (default: the lock duration). */
  stalledIntervalMs?: number;
  /** How long a job waiting for slot-pool slots sits in `delayed` before it is tried again (default 500 ms). */
  slotRetryMs?: number;
  /** How long a cancellation is remembered, for jobs fetched just after it was published (default 60 s). */
  cancelMemoryMs?: number;
  /** How long an idle worker blocks waiting for a job before it asks again, in seconds (BullMQ's drainDelay, default 5). */
  idleBlockSeconds?: number;
  redisOptions?: ConnectionOptions;
  /** What happens inside, for logs and tests. */
  onEvent?: (event: WorkerEvent) => void;
}

/** Something a worker did; `error` events carry failures no caller can catch. */
export type WorkerEvent =
  | { type: 'admitted'; job: TaskJob }
  | { type: 'handedBack'; job: TaskJob; reason: 'no-fit' | 'closing' }
  | { type: 'delayedForSlots'; job: TaskJob }
  | { type: 'finished'; job: TaskJob; outcome: Outcome }
  | { type: 'lockLost'; job: TaskJob }
  /** A finished report went out after the job's lock was lost; the executor decides whether it counts. */
  | { type: 'reportedLate'; job: TaskJob }
  | { type: 'error'; error: unknown };

/** What `close` does with running attempts. */
export interface CloseOptions {
  /** Let running attempts finish (default true); otherwise hand them back at once. */
  drain?: boolean;
  /** Longest wait for running attempts; those still running then are handed back (default 30 s). */
  deadlineMs?: number;
}
