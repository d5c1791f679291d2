// Fixed intervals (`every: 4h`): fire times keep a fixed UTC spacing, whatever the wall clock does.
import { BatutaError } from '../errors.js';
import type { Schedule } from './schedule.js';

/** Fires at `anchorMs + k · everyMs` for every integer k: a fixed UTC spacing, blind to DST. */
export class IntervalSchedule implements Schedule {
  readonly everyMs: number;
  /** One fire time; the DAG's start date, or the epoch when it has none. */
  readonly anchorMs: number;

  constructor(everyMs: number, anchorMs = 0) {
    if (!Number.isSafeInteger(everyMs) || everyMs <= 0) {
      throw new BatutaError('BAD_DURATION', `an interval must be a whole number of ms above 0, got ${everyMs}`);
    }
    if (!Number.isFinite(anchorMs)) throw new BatutaError('BAD_DURATION', `an interval's anchor must be finite`);
    this.everyMs = everyMs;
    this.anchorMs = Math.floor(anchorMs);
  }

  /** The first fire time strictly after `afterMs`. */
  next(afterMs: number): number | undefined {
    if (!Number.isFinite(afterMs)) return undefined;
    return this.anchorMs + (Math.floor((afterMs - this.anchorMs) / this.everyMs) + 1) * this.everyMs;
  }

  /** The last fire time strictly before `beforeMs`. */
  previous(beforeMs: number): number | undefined {
    if (!Number.isFinite(beforeMs)) return undefined;
    return this.anchorMs + (Math.ceil((beforeMs - this.anchorMs) / this.everyMs) - 1) * this.everyMs;
  }

  /** The fire times in `[fromMs, toMs)`, in order. */
  *between(fromMs: number, toMs: number): Generator<number, void, undefined> {
    for (let fire = this.next(fromMs - 1); fire !== undefined && fire < toMs; fire += this.everyMs) yield fire;
  }
}
