// Cancellations a worker heard lately. A cancellation is published once; a job fetched just after it
// (it was waiting when the executor removed the others, or handed back meanwhile) must still be refused.
import type { TaskJob } from '@batuta/scheduler';
import { type CancelMessage, cancelMatches } from './wire.js';

/** The cancellations heard in the last `memoryMs`. */
export class RecentCancels {
  private readonly entries: Array<{ cancel: CancelMessage; untilMs: number }> = [];

  constructor(private readonly memoryMs: number) {}

  /** Remembers `cancel` (heard at `nowMs`) and forgets those past their time. */
  remember(cancel: CancelMessage, nowMs: number): void {
    while (this.entries.length > 0 && this.entries[0]!.untilMs < nowMs) this.entries.shift();
    this.entries.push({ cancel, untilMs: nowMs + this.memoryMs });
  }

  /** The remembered cancellation that matches `task`, if any. */
  find(task: TaskJob, nowMs: number): CancelMessage | undefined {
    return this.entries.find((entry) => entry.untilMs >= nowMs && cancelMatches(entry.cancel, task))?.cancel;
  }
}
