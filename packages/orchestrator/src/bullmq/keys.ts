// Names in Redis: every key lives under `batuta:<namespace>:` so deployments (and test suites) sharing a
// Redis never touch each other. BullMQ's keys for pool P are `batuta:<ns>:pool:P:*` (prefix
// `batuta:<ns>:pool`, queue name P); the orchestrator's own keys are under `batuta:<ns>:orch:`.
import type { TaskJob } from '@batuta/scheduler';
import { OrchestratorError } from '../errors.js';
import { POOL_NAME_PATTERN } from '../pools/worker-pool.js';

const NAMESPACE_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

/** Throws BAD_NAMESPACE unless `namespace` is letters, digits, `_`, `.`, `-` (no `:`, so keys stay unambiguous). */
export function checkNamespace(namespace: string): string {
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw new OrchestratorError(
      'BAD_NAMESPACE',
      `namespace '${namespace}' must be 1 to 100 letters, digits, '_', '.' or '-'`,
    );
  }
  return namespace;
}

/** Throws BAD_POOL_NAME unless `pool` can name a BullMQ queue. */
export function checkPoolName(pool: string): string {
  if (!POOL_NAME_PATTERN.test(pool)) {
    throw new OrchestratorError(
      'BAD_POOL_NAME',
      `pool name '${pool}' must be 1 to 100 letters, digits, '_', '.' or '-'`,
    );
  }
  return pool;
}

/** The BullMQ `prefix` of every pool queue of a namespace; the queue name is the pool name. */
export function poolQueuePrefix(namespace: string): string {
  return `batuta:${namespace}:pool`;
}

/** The stream workers append started/finished reports to; every executor reads all of it. */
export function resultsStreamKey(namespace: string): string {
  return `batuta:${namespace}:orch:results`;
}

/** The pub/sub channel on which cancellations reach the workers running the attempts. */
export function cancelChannel(namespace: string): string {
  return `batuta:${namespace}:orch:cancel`;
}

/** The key a worker keeps alive (short time to live) while its process runs and reaches Redis. */
export function workerAliveKey(namespace: string, workerName: string): string {
  return `batuta:${namespace}:orch:alive:${workerName}`;
}

/** The holders of a slot pool: a sorted set (holder → lease expiry ms) and a hash (holder → slots held). */
export function slotPoolKeys(namespace: string, slotPool: string): { holders: string; amounts: string } {
  const base = `batuta:${namespace}:orch:slots:${slotPool}`;
  return { holders: base, amounts: `${base}:amounts` };
}

/**
 * The BullMQ job id of an attempt: `runId|taskId|mapIndex|tryNumber`, so resubmitting the same attempt
 * (after a scheduler crash) adds nothing. BullMQ refuses `:` in ids and run ids may hold one (ISO dates),
 * so `%`, `:` and `|` in the run id are percent-encoded; task ids cannot contain them.
 */
export function attemptJobId(job: Pick<TaskJob, 'runId' | 'taskId' | 'mapIndex' | 'tryNumber'>): string {
  const runId = job.runId.replace(/[%:|]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${runId}|${job.taskId}|${job.mapIndex}|${job.tryNumber}`;
}

/** BullMQ's lowest (most urgent) and highest priority numbers. */
export const BULLMQ_PRIORITY_MIN = 1;
export const BULLMQ_PRIORITY_MAX = 2 ** 21;
const PRIORITY_ORIGIN = 2 ** 20;

/**
 * BullMQ priority for a priorityWeight: a higher weight is a lower number (more urgent). Weight 0 sits in
 * the middle of BullMQ's range; weights beyond ±2^20 are clamped (they keep their order up to there).
 */
export function bullmqPriority(priorityWeight: number): number {
  const priority = PRIORITY_ORIGIN - Math.round(priorityWeight);
  return Math.min(BULLMQ_PRIORITY_MAX, Math.max(BULLMQ_PRIORITY_MIN, priority));
}
