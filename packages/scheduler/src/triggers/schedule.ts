// What every time-based schedule answers: its fire times, as instants (ms since the epoch, UTC).

/** A set of fire times. Fire times are whole milliseconds and strictly increasing. */
export interface Schedule {
  /** The first fire time strictly after `afterMs`, or undefined when there is none. */
  next(afterMs: number): number | undefined;
  /** The last fire time strictly before `beforeMs`, or undefined when there is none. */
  previous(beforeMs: number): number | undefined;
  /** The fire times in `[fromMs, toMs)`, in order. */
  between(fromMs: number, toMs: number): Generator<number, void, undefined>;
}
