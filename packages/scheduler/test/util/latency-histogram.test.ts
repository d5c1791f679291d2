// The bounded latency histogram: exact percentiles below one second (as a sorted array gives them), a
// fixed size however many samples, and snapshots that cross a process boundary and merge.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../src/util/latency-histogram.js';

/** The rank the benchmarks always used: sorted[⌊p/100 · n⌋], the last sample at p = 100. */
function fromSorted(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

describe('LatencyHistogram', () => {
  it('gives the percentiles of a sorted array for whole milliseconds below one second', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 1, maxLength: 500 }),
        fc.constantFrom(0, 50, 90, 99, 100),
        (samples, p) => {
          const histogram = new LatencyHistogram();
          for (const sample of samples) histogram.record(sample);
          expect(histogram.percentile(p)).toBe(fromSorted(samples, p));
          expect(histogram.maxMs).toBe(Math.max(...samples));
          expect(histogram.count).toBe(samples.length);
        },
      ),
    );
  });

  it('keeps the same number of buckets after a million samples of any size', () => {
    const histogram = new LatencyHistogram();
    const size = histogram.size;
    expect(size).toBe(LatencyHistogram.bucketCount);
    for (let i = 0; i < 1_000_000; i++) histogram.record((i * 7_919) % 3_600_000);
    expect(histogram.size).toBe(size);
    expect(histogram.snapshot().counts).toHaveLength(size);
    expect(histogram.count).toBe(1_000_000);
  });

  it('rounds slow samples down to their bucket and keeps the exact maximum', () => {
    const histogram = new LatencyHistogram();
    for (const sample of [1_234, 45_678, 2 * 3_600_000]) histogram.record(sample);
    expect(histogram.percentile(0)).toBe(1_230);
    expect(histogram.percentile(50)).toBe(45_000);
    expect(histogram.percentile(100)).toBe(600_000);
    expect(histogram.maxMs).toBe(2 * 3_600_000);
  });

  it('counts a negative sample (clock skew) as 0, and has no percentile when empty', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.percentile(50)).toBeNaN();
    expect(histogram.maxMs).toBeUndefined();
    histogram.record(-3);
    expect(histogram.percentile(50)).toBe(0);
  });

  it('merges the snapshots of several processes into the histogram of all their samples', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 0; i < 300; i++) {
      (i % 3 === 0 ? a : b).record(i);
      all.record(i);
    }
    const merged = LatencyHistogram.from(JSON.parse(JSON.stringify(a.snapshot())));
    merged.merge(LatencyHistogram.from(b.snapshot()));
    expect(merged.snapshot()).toEqual(all.snapshot());
    expect(merged.count).toBe(300);
    expect(() => LatencyHistogram.from({ counts: [1, 2], maxMs: 2 })).toThrow(RangeError);
  });
});
