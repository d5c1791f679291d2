// Reads an attempt's log as it grows: page after page from the cursor, waiting `pollMs` between empty
// reads, until the writer's end mark (the attempt was reported) or the caller says the attempt is no
// longer running (a killed worker writes no end mark), or the signal aborts.
import type { LogAttempt, LogPage, LogStore } from './log-store.js';

/** How followLog waits and when it gives up. */
export interface FollowLogOptions {
  /** Start after this cursor (default: the start). */
  after?: string;
  /** Start with the last `tail` lines instead (not with `after`), then follow on from them. */
  tail?: number;
  /** Wait between reads that found nothing new; default 250 ms. */
  pollMs?: number;
  /** Waits `ms` (default: a timer); a test passes its own. */
  sleep?: (ms: number) => Promise<void>;
  /** Still running? Asked after a read that found nothing and no end mark; false ends the follow. */
  stillRunning?: () => Promise<boolean>;
  signal?: AbortSignal;
}

/** Yields every page with lines until the attempt's log ends. */
export async function* followLog(
  store: LogStore,
  attempt: LogAttempt,
  options: FollowLogOptions = {},
): AsyncGenerator<LogPage> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let after = options.after;
  let tail = options.tail;
  while (!options.signal?.aborted) {
    const page = await store.read(attempt, {
      ...(tail === undefined ? {} : { tail }),
      ...(after === undefined ? {} : { after }),
    });
    tail = undefined;
    after = page.cursor;
    if (page.lines.length > 0) yield page;
    if (page.lines.length > 0 && !page.ended) continue;
    if (page.ended) {
      if (page.lines.length === 0) return;
      continue;
    }
    if (options.stillRunning && !(await options.stillRunning())) {
      // One last read: lines written just before the attempt stopped.
      for (;;) {
        const last = await store.read(attempt, { after });
        if (last.lines.length === 0) return;
        after = last.cursor;
        yield last;
      }
    }
    await sleep(options.pollMs ?? 250);
  }
}
