// The statistics behind rollout reports and guards (Kohavi, Tang & Xu, "Trustworthy Online Controlled
// Experiments"): intervals for a difference rather than a bare difference of means, a sample-ratio-mismatch
// check before any result is trusted, a fixed-horizon sample size declared up front, and an always-valid
// sequential test for rollouts that look at their figures continuously (a canary checking its guards).
import { chiSquareSurvival, normalCdf, normalQuantile } from './distributions.js';

/** Successes out of trials: conversions, correct predictions, errors. */
export interface Proportion {
  successes: number;
  trials: number;
}

/** A continuous metric summarised per variant (n ≥ 2). */
export interface MeanSummary {
  n: number;
  mean: number;
  /** The sample variance (n − 1 in the denominator). */
  variance: number;
}

/** An estimate with its two-sided interval at `confidence`. */
export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
}

/** A difference (treatment − control) with its interval and whether the interval excludes 0. */
export interface DifferenceReport extends Interval {
  significant: boolean;
}

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
}

function checkProportion(name: string, p: Proportion): void {
  const { successes, trials } = p;
  if (!Number.isInteger(trials) || trials < 0 || !Number.isInteger(successes) || successes < 0 || successes > trials) {
    throw new RangeError(`${name} must have integer 0 ≤ successes ≤ trials, got ${successes}/${trials}`);
  }
}

/** The Wilson score interval of one proportion (sound near 0 and 1, unlike the Wald interval). */
export function wilsonInterval(p: Proportion, confidence = 0.95): Interval {
  checkConfidence(confidence);
  checkProportion('the proportion', p);
  if (p.trials === 0) return { estimate: Number.NaN, lower: 0, upper: 1, confidence };
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const n = p.trials;
  const phat = p.successes / n;
  const denominator = 1 + (z * z) / n;
  const centre = (phat + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((phat * (1 - phat)) / n + (z * z) / (4 * n * n))) / denominator;
  return { estimate: phat, lower: Math.max(0, centre - half), upper: Math.min(1, centre + half), confidence };
}

/**
 * The difference of two proportions, treatment − control, with Newcombe's hybrid score interval (built
 * from the two Wilson intervals; good coverage at small counts and rates near 0 or 1).
 */
export function proportionDifference(control: Proportion, treatment: Proportion, confidence = 0.95): DifferenceReport {
  checkProportion('control', control);
  checkProportion('treatment', treatment);
  const a = wilsonInterval(control, confidence);
  const b = wilsonInterval(treatment, confidence);
  if (control.trials === 0 || treatment.trials === 0) {
    return { estimate: Number.NaN, lower: -1, upper: 1, confidence, significant: false };
  }
  const estimate = b.estimate - a.estimate;
  const lower = estimate - Math.sqrt((b.estimate - b.lower) ** 2 + (a.upper - a.estimate) ** 2);
  const upper = estimate + Math.sqrt((b.upper - b.estimate) ** 2 + (a.estimate - a.lower) ** 2);
  return { estimate, lower, upper, confidence, significant: lower > 0 || upper < 0 };
}

/** The difference of two means, treatment − control, with a normal (Welch standard error) interval. */
export function meanDifference(control: MeanSummary, treatment: MeanSummary, confidence = 0.95): DifferenceReport {
  checkConfidence(confidence);
  for (const [name, s] of [
    ['control', control],
    ['treatment', treatment],
  ] as const) {
    if (!(s.n >= 2) || !(s.variance >= 0)) throw new RangeError(`${name} needs n ≥ 2 and a variance ≥ 0`);
  }
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const se = Math.sqrt(control.variance / control.n + treatment.variance / treatment.n);
  const estimate = treatment.mean - control.mean;
  const lower = estimate - z * se;
  const upper = estimate + z * se;
  return { estimate, lower, upper, confidence, significant: lower > 0 || upper < 0 };
}

/** The outcome of a sample-ratio-mismatch check. */
export interface SampleRatioReport {
  /** Pearson's chi-square statistic of the observed counts against the expected shares. */
  chiSquare: number;
  degreesOfFreedom: number;
  pValue: number;
  /** true when pValue < alpha: the assignment is broken and no comparison of these variants is trustworthy. */
  mismatch: boolean;
  alpha: number;
}

/**
 * The sample-ratio-mismatch check: are the counts per variant consistent with the split they were meant
 * to follow? A mismatch means the router, logging or a filter is biased, and every result computed on
 * these counts is suspect. The default alpha (0.0005) follows Kohavi et al.'s advice for a check that runs
 * on every report.
 */
export function sampleRatioMismatch(
  counts: readonly number[],
  expectedShares: readonly number[],
  alpha = 0.0005,
): SampleRatioReport {
  if (counts.length !== expectedShares.length || counts.length < 2) {
    throw new RangeError('sampleRatioMismatch needs one expected share per count, at least two variants');
  }
  const shareTotal = expectedShares.reduce((sum, share) => sum + share, 0);
  if (!(shareTotal > 0) || expectedShares.some((share) => !(share > 0))) {
    throw new RangeError('every expected share must be > 0');
  }
  const total = counts.reduce((sum, count) => sum + count, 0);
  let chiSquare = 0;
  for (const [index, count] of counts.entries()) {
    const expected = (total * expectedShares[index]!) / shareTotal;
    chiSquare += expected === 0 ? 0 : (count - expected) ** 2 / expected;
  }
  const degreesOfFreedom = counts.length - 1;
  const pValue = total === 0 ? 1 : chiSquareSurvival(chiSquare, degreesOfFreedom);
  return { chiSquare, degreesOfFreedom, pValue, mismatch: pValue < alpha, alpha };
}

/**
 * Trials per variant a fixed-horizon test of two proportions needs to detect an absolute change of
 * `minimumEffect` from `baseline` with the given two-sided alpha and power. Declare it before the test
 * starts and read the result once, at that size; looking earlier needs the sequential test below.
 */
export function fixedHorizonSampleSize(options: {
  baseline: number;
  minimumEffect: number;
  alpha?: number;
  power?: number;
}): number {
  const { baseline, minimumEffect, alpha = 0.05, power = 0.8 } = options;
  const treated = baseline + minimumEffect;
  if (!(baseline > 0 && baseline < 1 && treated > 0 && treated < 1 && minimumEffect !== 0)) {
    throw new RangeError('baseline and baseline + minimumEffect must be in (0, 1), and the effect not 0');
  }
  const zAlpha = normalQuantile(1 - alpha / 2);
  const zBeta = normalQuantile(power);
  const pooled = (baseline + treated) / 2;
  const numerator =
    zAlpha * Math.sqrt(2 * pooled * (1 - pooled)) +
    zBeta * Math.sqrt(baseline * (1 - baseline) + treated * (1 - treated));
  return Math.ceil((numerator / minimumEffect) ** 2);
}

/**
 * An always-valid sequential test of two proportions (the mixture sequential probability ratio test with
 * a normal mixture over the effect, as in Johari et al., "Always Valid Inference"): the figures may be
 * looked at after every request and the test stopped the first time it rejects, and the false-positive
 * rate stays below alpha. `mixtureVariance` (τ²) is the squared size of effects expected; a τ near the
 * minimum effect of interest gives the most power there.
 */
export class SequentialTest {
  private pValue: number;

  /** `pValue`: the running p-value of earlier observations, when the test resumes from stored state. */
  constructor(
    readonly alpha = 0.05,
    readonly mixtureVariance = 0.0001,
    pValue = 1,
  ) {
    this.pValue = pValue;
    if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
    if (!(mixtureVariance > 0)) throw new RangeError('mixtureVariance must be > 0');
  }

  /**
   * Takes the cumulative counts so far; returns the always-valid p-value (non-increasing over the
   * observations) and whether the test has rejected "no difference".
   */
  observe(control: Proportion, treatment: Proportion): { pValue: number; rejected: boolean; estimate: number } {
    checkProportion('control', control);
    checkProportion('treatment', treatment);
    const estimate =
      control.trials > 0 && treatment.trials > 0
        ? treatment.successes / treatment.trials - control.successes / control.trials
        : Number.NaN;
    if (control.trials >= 2 && treatment.trials >= 2) {
      const pa = control.successes / control.trials;
      const pb = treatment.successes / treatment.trials;
      // A variance floor keeps the statistic defined when both rates sit at 0 or 1 so far.
      const variance = Math.max(
        (pa * (1 - pa)) / control.trials + (pb * (1 - pb)) / treatment.trials,
        1 / (4 * (control.trials + treatment.trials) ** 2),
      );
      const tau2 = this.mixtureVariance;
      const logLikelihoodRatio =
        0.5 * Math.log(variance / (variance + tau2)) +
        (estimate * estimate * tau2) / (2 * variance * (variance + tau2));
      this.pValue = Math.min(this.pValue, Math.min(1, Math.exp(-logLikelihoodRatio)));
    }
    return { pValue: this.pValue, rejected: this.pValue < this.alpha, estimate };
  }
}

/** The two-sided p-value of a z statistic (for reports that show one next to an interval). */
export function twoSidedPValue(z: number): number {
  return 2 * normalCdf(-Math.abs(z));
}
