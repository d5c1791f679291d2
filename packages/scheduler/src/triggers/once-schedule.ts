// `@once`: a single fire time.
import type { Schedule } from './schedule.js';

/** Fires exactly once, at `atMs` (the DAG's start date, or the epoch when it has none). */
export class OnceSchedule implements Schedule {
  readonly atMs: number;

  constructor(atMs = 0) {
    this.atMs = Math.floor(atMs);
  }

  /** `atMs` when it is strictly after `afterMs`. */
  next(afterMs: number): number | undefined {
    return this.atMs > afterMs ? this.atMs : undefined;
  }

  /** `atMs` when it is strictly before `beforeMs`. */
  previous(beforeMs: number): number | undefined {
    return this.atMs < beforeMs ? this.atMs : undefined;
  }

  /** `atMs` when it lies in `[fromMs, toMs)`. */
  *between(fromMs: number, toMs: number): Generator<number, void, undefined> {
    if (this.atMs >= fromMs && this.atMs < toMs) yield this.atMs;
  }
}
