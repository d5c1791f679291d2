// Every use of BullMQ beyond its documented API lives here: key layouts, reply shapes and members that
// BullMQ may change in any release. `test/bullmq/bullmq-internals.test.ts` is pinned to the version they
// were checked against and exercises each of them on a real Redis; upgrading BullMQ means rereading its
// source for each function below, then moving BULLMQ_CHECKED_VERSION.
import { Job, type JobJson, type Queue, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { OrchestratorError } from '../errors.js';

/** The BullMQ release whose internals this module was checked against. */
export const BULLMQ_CHECKED_VERSION = '6.7.0';

/** Fields of BullMQ's job hash: when the job was added, and when it completed or failed. */
export const JOB_ADDED_FIELD = 'timestamp';
export const JOB_FINISHED_FIELD = 'finishedOn';

/** The Redis key of a job's hash (BullMQ keeps a job's data, options and state times there). */
export function jobHashKey(queue: Queue | Worker, jobId: string): string {
  return queue.toKey(jobId);
}

/** The Redis key of a job's lock (its value is the token of the worker holding the job). */
export function jobLockKey(jobHashKey: string): string {
  return `${jobHashKey}:lock`;
}

/**
 * Wakes workers blocked waiting for a job of this queue. BullMQ's `moveToWait` does not mark the queue
 * when a prioritized job goes back, so idle workers would not see it until their block times out.
 */
export async function markQueueHasJobs(connection: Redis, worker: Worker): Promise<void> {
  const marker = worker.keys.marker;
  if (marker === undefined)
    throw new OrchestratorError(
      'BULLMQ_UNSUPPORTED',
      `BullMQ no longer names a marker key (checked against ${BULLMQ_CHECKED_VERSION}); see bullmq-internals.ts`,
    );
  await connection.zadd(marker, 0, '0');
}

/** Ends a blocking fetch under way at once (a closing worker does not wait out its block). */
export async function interruptBlockingFetch(worker: Worker): Promise<void> {
  await worker.backend.disconnectBlocking(false);
}

/**
 * The job BullMQ handed over with a completion (`moveToCompleted`/`moveToFailed` with `fetchNext`): the
 * reply is `[job fields, job id, …]`, or not an array when there was none. The job is locked with `token`.
 */
export function jobFetchedWithCompletion(worker: Worker, reply: unknown, token: string): Job | undefined {
  if (!Array.isArray(reply) || !reply[0]) return undefined;
  const job = Job.fromJSON(worker, reply[0] as JobJson, reply[1] as string);
  job.token = token;
  return job;
}

/** True for a job a stalled check found without a live worker: BullMQ fails it on this, its next fetch. */
export function wasLostWithItsWorker(job: Job): boolean {
  return Boolean(job.deferredFailure);
}
