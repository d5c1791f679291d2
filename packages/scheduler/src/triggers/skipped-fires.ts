// The fires a DAG without catchup drops: when its scheduler could not create runs for a while (a Redis
// outage, every scheduler down), only the latest missed fire becomes a run. The fires between its last
// scheduled run and that one are skipped; the daemon logs them, so an operator sees which dates never ran.
import type { Timetable } from './timetable.js';

/** At most this many skipped logical dates are listed; `more` says there were others. */
export const SKIPPED_FIRES_LISTED = 100;

/** The logical dates skipped between two scheduled fires, oldest first (at most SKIPPED_FIRES_LISTED). */
export function skippedFires(
  timetable: Timetable,
  lastScheduledFireMs: number,
  createdFireMs: number,
): { logicalDatesMs: number[]; more: boolean } {
  const logicalDatesMs: number[] = [];
  let fire = timetable.nextFire(lastScheduledFireMs);
  while (fire !== undefined && fire < createdFireMs) {
    if (logicalDatesMs.length === SKIPPED_FIRES_LISTED) return { logicalDatesMs, more: true };
    logicalDatesMs.push(fire);
    fire = timetable.nextFire(fire);
  }
  return { logicalDatesMs, more: false };
}
