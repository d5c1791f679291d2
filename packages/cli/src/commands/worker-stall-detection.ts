// How fast a dead worker's attempts are noticed: BullMQ's job lock (renewed every half of it while the
// attempt runs) and how often live workers look for expired locks. A killed worker's attempt is reported
// WORKER_LOST at most lock duration + stalled interval after the kill. Shorter is faster, but a worker whose
// event loop is blocked for longer than the lock duration (a long synchronous task body, a GC pause on a
// big heap, a stopped VM) loses its running attempts to another worker although it is alive.
import { parseDuration } from '@batuta/scheduler';
import { durationProblem } from '@batuta/scheduler/internals';
import { UsageError } from '../cli-error.js';

/** The shortest lock a worker may take: renewal runs every half of it, and Redis round trips need room. */
const MIN_LOCK_DURATION_MS = 2_000;
/** The shortest pause between stalled checks: each one is a Lua script over the pool's active jobs. */
const MIN_STALLED_INTERVAL_MS = 500;

/**
 * The worker's stall-detection settings; absent ones keep the worker's defaults (30 s, the lock duration,
 * and a 5-minute outage grace).
 */
export interface StallDetection {
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** How long a task whose lock was lost to a Redis outage keeps running, its late report still counting. */
  outageGraceMs?: number;
}

function durationSetting(text: string | undefined, name: string, minimumMs: number): number | undefined {
  if (text === undefined || text === '') return undefined;
  const problem = durationProblem(text);
  if (problem) throw new UsageError(`${name}: '${text}' is not a duration (${problem}), e.g. 10s`);
  const ms = parseDuration(text);
  if (ms < minimumMs) throw new UsageError(`${name}: ${text} is below the minimum of ${minimumMs} ms`);
  return ms;
}

/**
 * Reads `--lock-duration` / `--stalled-interval` / `--outage-grace` (flags win) or
 * BATUTA_WORKER_LOCK_DURATION / BATUTA_WORKER_STALLED_INTERVAL / BATUTA_OUTAGE_GRACE, as durations such
 * as `6s`. A usage error names a bad value.
 */
export function stallDetectionOf(
  flags: {
    'lock-duration'?: string | undefined;
    'stalled-interval'?: string | undefined;
    'outage-grace'?: string | undefined;
  },
  env: NodeJS.ProcessEnv,
): StallDetection {
  const lockDurationMs = durationSetting(
    flags['lock-duration'] ?? env.BATUTA_WORKER_LOCK_DURATION,
    '--lock-duration (BATUTA_WORKER_LOCK_DURATION)',
    MIN_LOCK_DURATION_MS,
  );
  const stalledIntervalMs = durationSetting(
    flags['stalled-interval'] ?? env.BATUTA_WORKER_STALLED_INTERVAL,
    '--stalled-interval (BATUTA_WORKER_STALLED_INTERVAL)',
    MIN_STALLED_INTERVAL_MS,
  );
  const outageGraceMs = outageGraceOf(flags['outage-grace'], env);
  return {
    ...(lockDurationMs === undefined ? {} : { lockDurationMs }),
    ...(stalledIntervalMs === undefined ? {} : { stalledIntervalMs }),
    ...(outageGraceMs === undefined ? {} : { outageGraceMs }),
  };
}

/**
 * `--outage-grace` (or BATUTA_OUTAGE_GRACE): how long a Redis outage is forgiven. Workers keep running a
 * task whose lock it cost, and schedulers hold its WORKER_LOST while its worker lives; `0s` turns it off.
 * Give workers and schedulers the same value.
 */
export function outageGraceOf(flag: string | undefined, env: NodeJS.ProcessEnv): number | undefined {
  return durationSetting(flag ?? env.BATUTA_OUTAGE_GRACE, '--outage-grace (BATUTA_OUTAGE_GRACE)', 0);
}
