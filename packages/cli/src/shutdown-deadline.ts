// A daemon told to stop must stop: with Redis away, closing a connection waits forever (commands wait
// through reconnects), so a SIGTERM would never end the process. The stop is raced against a deadline;
// past it the process exits anyway with one log line saying what was abandoned.
import type { SchedulerLogEvent } from '@batuta/scheduler';

/** Default bound on a daemon's stop after SIGTERM/SIGINT. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * Runs `stop`; if it has not finished within `timeoutMs` (or failed), logs `shutdown_timeout` (or
 * `shutdown_failed`) and exits the process with code 1: the connections a stop could not close would
 * otherwise keep it alive. Resolves with 0 when `stop` finished.
 */
export async function shutdownWithin(
  what: string,
  timeoutMs: number,
  stop: () => Promise<void>,
  log: (event: SchedulerLogEvent) => void,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), timeoutMs);
  });
  const stopped = stop().then(
    () => 'stopped' as const,
    (error: unknown) => {
      log({
        event: 'shutdown_failed',
        level: 'error',
        what,
        message: `${what} did not stop cleanly: ${String(error)}`,
      });
      process.exit(1);
    },
  );
  const result = await Promise.race([stopped, expired]);
  clearTimeout(timer);
  if (result === 'expired') {
    log({
      event: 'shutdown_timeout',
      level: 'error',
      what,
      timeoutMs,
      message: `${what} did not stop within ${timeoutMs} ms (is Redis reachable?); exiting without a clean stop`,
    });
    process.exit(1);
  }
  return 0;
}
