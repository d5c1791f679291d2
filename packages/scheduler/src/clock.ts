/** Time, injected: every component that needs "now" or a timer takes a Clock, so tests can run months in ms. */
export interface Clock {
  now(): number;
  /** Calls `callback` once at (or after) `atMs`; returns a function that cancels it. */
  setTimer(atMs: number, callback: () => void): () => void;
}

const MAX_TIMEOUT_MS = 2_147_483_647;

/** The real wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(atMs, callback) {
    // setTimeout fires at once for delays over 2^31−1 ms (~24.8 days): re-arm in steps instead.
    let handle: ReturnType<typeof setTimeout>;
    const arm = () => {
      const delay = atMs - Date.now();
      handle = delay > MAX_TIMEOUT_MS ? setTimeout(arm, MAX_TIMEOUT_MS) : setTimeout(callback, Math.max(0, delay));
    };
    arm();
    return () => clearTimeout(handle);
  },
};

/** A clock that moves only when told to; timers fire in time order during `advance`/`set`. */
export class ManualClock implements Clock {
  private current: number;
  private timers: Array<{ atMs: number; seq: number; callback: () => void }> = [];
  private seq = 0;

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(atMs: number, callback: () => void): () => void {
    const timer = { atMs, seq: this.seq++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    this.set(this.current + ms);
  }

  /** Moves time to `targetMs` (never backwards), firing due timers in order. */
  set(targetMs: number): void {
    for (;;) {
      const due = this.timers.filter((t) => t.atMs <= targetMs).sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.atMs);
      due.callback();
    }
    this.current = Math.max(this.current, targetMs);
  }

  /** The earliest pending timer, if any. */
  nextTimerAtMs(): number | undefined {
    let next: number | undefined;
    for (const t of this.timers) if (next === undefined || t.atMs < next) next = t.atMs;
    return next;
  }
}
