// The rollout statistics against published values (Newcombe 1998, standard tables) and, for the
// sequential test, against its promise: looking after every batch keeps false positives below alpha,
// where a naive interval looked at as often does not.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquareSurvival, logGamma, normalCdf, normalQuantile } from '../../src/rollout/distributions.js';
import { SeededRandom } from '../../src/rollout/random.js';
import {
  fixedHorizonSampleSize,
  meanDifference,
  proportionDifference,
  SequentialTest,
  sampleRatioMismatch,
  wilsonInterval,
} from '../../src/rollout/statistics.js';

describe('distribution functions', () => {
  it.each([
    [1.959963984540054, 0.975],
    [-3, 0.0013498980316301],
    [0, 0.5],
    [-10, 7.619853024160527e-24],
  ])('Φ(%d) = %d', (z, p) => {
    expect(normalCdf(z)).toBeCloseTo(p, 12);
    expect(Math.abs(normalCdf(z) - p) / p).toBeLessThan(1e-9);
  });

  it.each([
    [0.975, 1.959963984540054],
    [0.5, 0],
    [1e-10, -6.361340902404056],
    [0.999, 3.090232306167813],
  ])('Φ⁻¹(%d) = %d', (p, z) => {
    expect(normalQuantile(p)).toBeCloseTo(z, 9);
  });

  it('inverts: Φ⁻¹(Φ(z)) = z', () => {
    fc.assert(
      fc.property(fc.double({ min: -7, max: 5, noNaN: true }), (z) => {
        expect(normalQuantile(normalCdf(z))).toBeCloseTo(z, 7);
      }),
    );
  });

  it.each([
    [3.841458820694124, 1, 0.05],
    [5.991464547107979, 2, 0.05],
    [18.307038053275146, 10, 0.05],
    [0.5, 3, 0.9188914116546758],
    [40, 1, 2.5396285894708e-10],
  ])('P(χ²(%d df) ≥ %d) = %d', (x, df, p) => {
    expect(Math.abs(chiSquareSurvival(x, df) - p) / p).toBeLessThan(1e-9);
  });

  it('ln Γ matches factorials and Γ(1/2) = √π', () => {
    expect(logGamma(10)).toBeCloseTo(Math.log(362_880), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(171)).toBeCloseTo(706.5730622457874, 9);
  });
});

describe('intervals', () => {
  it('gives the Wilson interval of 5/10 and stays inside [0, 1] at the edges', () => {
    const half = wilsonInterval({ successes: 5, trials: 10 });
    expect(half.lower).toBeCloseTo(0.2366, 4);
    expect(half.upper).toBeCloseTo(0.7634, 4);
    const none = wilsonInterval({ successes: 0, trials: 20 });
    expect(none.lower).toBeCloseTo(0, 12);
    expect(none.upper).toBeCloseTo(0.1611, 4);
  });

  it("matches Newcombe's worked example for a difference of proportions (56/70 − 48/80)", () => {
    const report = proportionDifference({ successes: 48, trials: 80 }, { successes: 56, trials: 70 });
    expect(report.estimate).toBeCloseTo(0.2, 10);
    expect(report.lower).toBeCloseTo(0.0524, 4);
    expect(report.upper).toBeCloseTo(0.3339, 4);
    expect(report.significant).toBe(true);
  });

  it('says a difference of means is not significant when its interval holds 0', () => {
    const report = meanDifference({ n: 50, mean: 10, variance: 4 }, { n: 50, mean: 10.5, variance: 4 });
    expect(report.lower).toBeLessThan(0);
    expect(report.upper).toBeGreaterThan(0);
    expect(report.significant).toBe(false);
    expect(report.upper - report.lower).toBeCloseTo(2 * 1.959963984540054 * Math.sqrt(4 / 50 + 4 / 50), 9);
  });

  it('refuses impossible counts', () => {
    expect(() => wilsonInterval({ successes: 11, trials: 10 })).toThrow(RangeError);
    expect(() => proportionDifference({ successes: -1, trials: 10 }, { successes: 1, trials: 10 })).toThrow(RangeError);
  });
});

describe('the sample-ratio-mismatch check', () => {
  it('passes a fair 50/50 split and flags a 10,000 / 9,500 one', () => {
    expect(sampleRatioMismatch([5_021, 4_979], [0.5, 0.5]).mismatch).toBe(false);
    const biased = sampleRatioMismatch([10_000, 9_500], [0.5, 0.5]);
    expect(biased.chiSquare).toBeCloseTo(12.8205, 3);
    expect(biased.pValue).toBeLessThan(0.0005);
    expect(biased.mismatch).toBe(true);
  });

  it('rarely flags counts drawn from the declared split (false alarms near alpha)', () => {
    const random = new SeededRandom(7);
    let alarms = 0;
    const trials = 400;
    for (let t = 0; t < trials; t++) {
      const counts = [0, 0, 0];
      for (let i = 0; i < 2_000; i++) {
        const u = random.next();
        counts[u < 0.2 ? 0 : u < 0.5 ? 1 : 2]! += 1;
      }
      if (sampleRatioMismatch(counts, [0.2, 0.3, 0.5], 0.05).mismatch) alarms++;
    }
    // Binomial(400, 0.05): mean 20, sd 4.4; 40 is 4.6 sd away.
    expect(alarms).toBeLessThan(40);
  });
});

describe('the fixed horizon', () => {
  it('needs 3,841 per arm to see 10 % → 12 % at alpha 0.05 and power 0.8', () => {
    expect(fixedHorizonSampleSize({ baseline: 0.1, minimumEffect: 0.02 })).toBe(3_841);
  });
});

describe('the always-valid sequential test', () => {
  /** Looks after every 100 requests per arm, up to 4,000; true when a look rejects. */
  function experiment(
    random: SeededRandom,
    control: number,
    treatment: number,
    look: (a: Counts, b: Counts) => boolean,
  ) {
    const a = { successes: 0, trials: 0 };
    const b = { successes: 0, trials: 0 };
    for (let n = 1; n <= 4_000; n++) {
      a.trials++;
      b.trials++;
      if (random.next() < control) a.successes++;
      if (random.next() < treatment) b.successes++;
      if (n % 100 === 0 && look(a, b)) return true;
    }
    return false;
  }
  type Counts = { successes: number; trials: number };

  it('keeps false positives below alpha under continuous peeking, where a naive 95 % interval does not', () => {
    const runs = 300;
    let sequentialRejections = 0;
    let naiveRejections = 0;
    for (let seed = 0; seed < runs; seed++) {
      const test = new SequentialTest(0.05, 0.0025);
      if (experiment(new SeededRandom(seed), 0.3, 0.3, (a, b) => test.observe(a, b).rejected)) sequentialRejections++;
      if (experiment(new SeededRandom(seed), 0.3, 0.3, (a, b) => proportionDifference(a, b).significant))
        naiveRejections++;
    }
    expect(sequentialRejections / runs).toBeLessThan(0.05);
    // Forty looks at a 95 % interval reject a true null far more often than 5 % (about 20–30 %).
    expect(naiveRejections / runs).toBeGreaterThan(0.1);
  });

  it('detects a real 30 % → 36 % change', () => {
    let detected = 0;
    for (let seed = 0; seed < 50; seed++) {
      const test = new SequentialTest(0.05, 0.0025);
      if (experiment(new SeededRandom(1_000 + seed), 0.3, 0.36, (a, b) => test.observe(a, b).rejected)) detected++;
    }
    expect(detected).toBeGreaterThan(40);
  });

  it('never raises its p-value, and resumes from a stored one', () => {
    const test = new SequentialTest(0.05, 0.0025);
    const first = test.observe({ successes: 40, trials: 100 }, { successes: 60, trials: 100 }).pValue;
    const second = test.observe({ successes: 90, trials: 200 }, { successes: 100, trials: 200 }).pValue;
    expect(second).toBeLessThanOrEqual(first);
    const resumed = new SequentialTest(0.05, 0.0025, second);
    expect(resumed.observe({ successes: 1, trials: 2 }, { successes: 1, trials: 2 }).pValue).toBe(second);
  });
});
