// Work a daemon does every so often inside its passes (lease renewal, orphan adoption, folder reload):
// passes come every poll and at every fire, far more often than this work needs to run.

/** Says whether `everyMs` has passed since the work last ran, and if so counts it as run now. */
export class Cadence {
  private readonly everyMs: number;
  private lastMs = Number.NEGATIVE_INFINITY;

  constructor(everyMs: number) {
    this.everyMs = everyMs;
  }

  /** True (and the work counts as done at `nowMs`) when it is due; the first call is always due. */
  due(nowMs: number): boolean {
    if (nowMs - this.lastMs < this.everyMs) return false;
    this.lastMs = nowMs;
    return true;
  }
}
