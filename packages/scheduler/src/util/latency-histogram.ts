// A latency histogram of fixed size: a process that records a sample per run for months holds the same
// few kilobytes as on its first day. Exact to the millisecond below one second (where fire lateness
// lives), then 10 ms steps to 10 s and 1 s steps to 10 min; later samples share one overflow bucket.

const EXACT_UNTIL_MS = 1_000;
const TENS_UNTIL_MS = 10_000;
const SECONDS_UNTIL_MS = 600_000;
const TENS_FROM = EXACT_UNTIL_MS; // the index of the first 10 ms bucket
const SECONDS_FROM = TENS_FROM + (TENS_UNTIL_MS - EXACT_UNTIL_MS) / 10;
const OVERFLOW = SECONDS_FROM + (SECONDS_UNTIL_MS - TENS_UNTIL_MS) / 1_000;
const BUCKETS = OVERFLOW + 1;

/** A histogram as plain data (e.g. sent between processes). */
export interface LatencyHistogramSnapshot {
  counts: number[];
  maxMs: number | null;
}

/** Counts of latency samples in fixed buckets, with the exact maximum. */
export class LatencyHistogram {
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private total = 0;
  private max: number | undefined;

  /** The histogram a snapshot describes (a snapshot of another size is refused). */
  static from(snapshot: LatencyHistogramSnapshot): LatencyHistogram {
    if (snapshot.counts.length !== BUCKETS) {
      throw new RangeError(`a latency histogram has ${BUCKETS} buckets, the snapshot ${snapshot.counts.length}`);
    }
    const histogram = new LatencyHistogram();
    snapshot.counts.forEach((count, index) => {
      histogram.counts[index] = count;
      histogram.total += count;
    });
    histogram.max = snapshot.maxMs ?? undefined;
    return histogram;
  }

  /** How many buckets every histogram holds, however many samples it saw. */
  static get bucketCount(): number {
    return BUCKETS;
  }

  /** Adds one sample; negative samples (clock skew) count as 0. */
  record(ms: number): void {
    const value = Math.max(0, ms);
    this.counts[bucketOf(value)]! += 1;
    this.total += 1;
    if (this.max === undefined || value > this.max) this.max = value;
  }

  /** Adds every sample of `other`. */
  merge(other: LatencyHistogram): void {
    other.counts.forEach((count, index) => {
      this.counts[index]! += count;
    });
    this.total += other.total;
    if (other.max !== undefined && (this.max === undefined || other.max > this.max)) this.max = other.max;
  }

  /** How many samples were recorded. */
  get count(): number {
    return this.total;
  }

  /** The largest sample, or undefined when there is none. */
  get maxMs(): number | undefined {
    return this.max;
  }

  /** The number of buckets this histogram holds (always `bucketCount`). */
  get size(): number {
    return this.counts.length;
  }

  /**
   * The sample at rank ⌊p/100 · count⌋ of the sorted samples (the last one at p = 100), to its bucket's
   * lower bound: exact below one second. NaN when there is no sample.
   */
  percentile(p: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.min(this.total - 1, Math.floor((p / 100) * this.total));
    let seen = 0;
    for (const [index, count] of this.counts.entries()) {
      seen += count;
      if (seen > rank) return Math.min(lowerBoundOf(index), this.max ?? Number.POSITIVE_INFINITY);
    }
    return this.max ?? Number.NaN;
  }

  /** The histogram as plain data. */
  snapshot(): LatencyHistogramSnapshot {
    return { counts: [...this.counts], maxMs: this.max ?? null };
  }
}

function bucketOf(ms: number): number {
  if (ms < EXACT_UNTIL_MS) return Math.floor(ms);
  if (ms < TENS_UNTIL_MS) return TENS_FROM + Math.floor((ms - EXACT_UNTIL_MS) / 10);
  if (ms < SECONDS_UNTIL_MS) return SECONDS_FROM + Math.floor((ms - TENS_UNTIL_MS) / 1_000);
  return OVERFLOW;
}

function lowerBoundOf(index: number): number {
  if (index < TENS_FROM) return index;
  if (index < SECONDS_FROM) return EXACT_UNTIL_MS + (index - TENS_FROM) * 10;
  if (index < OVERFLOW) return TENS_UNTIL_MS + (index - SECONDS_FROM) * 1_000;
  return SECONDS_UNTIL_MS;
}
