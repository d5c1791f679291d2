// The canary's decision at each check, pure: from the rollout's state, the figures so far and the time,
// decide to hold, advance to the next step, promote after the last, or abort. Guards abort only when
// the figures are confidently bad (a Wilson bound, an always-valid test), because they are looked at after
// every batch of requests; a step advances only when its hold time has passed, it has seen enough
// candidate requests, and the point estimates are within every guard.
import type { RolloutState } from './router.js';
import { type Proportion, SequentialTest, wilsonInterval } from './statistics.js';

/** What one arm saw since the rollout began. */
export interface ArmFigures {
  requests: number;
  /** Requests the arm failed to answer (scorer errors). */
  errors: number;
  /** Requests scored by both versions, and how many of those the two disagreed on. */
  compared: number;
  disagreements: number;
  /** Feedback received: how many answers were right, out of how many judged. */
  feedback: Proportion;
}

export interface CanaryFigures {
  baseline: ArmFigures;
  candidate: ArmFigures;
  /** Candidate requests since the current step began. */
  candidateRequestsThisStep: number;
}

export type CanaryAction = 'hold' | 'advance' | 'promote' | 'abort';

export interface CanaryDecision {
  action: CanaryAction;
  /** Why, for people and the rollout's log. */
  reason: string;
  /** The state after the decision (unchanged on hold, apart from the accuracy test's running p-value). */
  state: RolloutState & { accuracyPValue?: number };
}

/** An empty arm, for callers that start counting. */
export function emptyArmFigures(): ArmFigures {
  return { requests: 0, errors: 0, compared: 0, disagreements: 0, feedback: { successes: 0, trials: 0 } };
}

export function decideCanary(
  state: RolloutState & { accuracyPValue?: number },
  figures: CanaryFigures,
  nowMs: number,
): CanaryDecision {
  const { spec } = state;
  if (spec.strategy !== 'canary') throw new RangeError(`decideCanary needs a canary rollout, not '${spec.strategy}'`);
  if (state.status !== 'running') return { action: 'hold', reason: `the rollout is ${state.status}`, state };
  const { guards, steps } = spec;
  const { candidate, baseline } = figures;
  const abort = (reason: string): CanaryDecision => ({
    action: 'abort',
    reason,
    state: { ...state, status: 'aborted', reason },
  });
  const notes: string[] = [];

  if (guards.maxErrorRate !== undefined && candidate.requests > 0) {
    const errors = wilsonInterval({ successes: candidate.errors, trials: candidate.requests }, guards.confidence);
    if (errors.lower > guards.maxErrorRate) {
      return abort(
        `error rate ${format(errors.estimate)} (≥ ${format(errors.lower)} at ${guards.confidence}) above ${format(guards.maxErrorRate)}`,
      );
    }
    if (errors.estimate > guards.maxErrorRate)
      notes.push(`error rate ${format(errors.estimate)} above ${format(guards.maxErrorRate)}`);
  }
  if (guards.maxDisagreementRate !== undefined && candidate.compared > 0) {
    const rate = wilsonInterval({ successes: candidate.disagreements, trials: candidate.compared }, guards.confidence);
    if (rate.lower > guards.maxDisagreementRate) {
      return abort(
        `disagreement ${format(rate.estimate)} (≥ ${format(rate.lower)} at ${guards.confidence}) above ${format(guards.maxDisagreementRate)}`,
      );
    }
    if (rate.estimate > guards.maxDisagreementRate)
      notes.push(`disagreement ${format(rate.estimate)} above ${format(guards.maxDisagreementRate)}`);
  }
  let accuracyPValue = state.accuracyPValue;
  if (guards.maxAccuracyDrop !== undefined) {
    const test = new SequentialTest(guards.alpha, Math.max(guards.maxAccuracyDrop, 0.005) ** 2, accuracyPValue);
    const result = test.observe(baseline.feedback, candidate.feedback);
    accuracyPValue = result.pValue;
    if (result.rejected && result.estimate < -guards.maxAccuracyDrop) {
      return abort(
        `feedback accuracy ${format(result.estimate)} against the baseline (always-valid p ${format(result.pValue)})`,
      );
    }
    if (result.estimate < -guards.maxAccuracyDrop)
      notes.push(`accuracy ${format(result.estimate)} against the baseline`);
  }
  const kept = accuracyPValue === undefined ? state : { ...state, accuracyPValue };

  const step = steps[Math.min(state.stepIndex, steps.length - 1)]!;
  const waited = nowMs - state.stepStartedMs;
  if (waited < step.holdMs)
    return { action: 'hold', reason: `step ${state.stepIndex + 1} holds ${step.holdMs - waited} ms more`, state: kept };
  if (figures.candidateRequestsThisStep < step.minRequests) {
    return {
      action: 'hold',
      reason: `step ${state.stepIndex + 1} has ${figures.candidateRequestsThisStep} of ${step.minRequests} candidate requests`,
      state: kept,
    };
  }
  if (notes.length > 0)
    return { action: 'hold', reason: `not confidently bad, not good enough: ${notes.join('; ')}`, state: kept };
  if (state.stepIndex + 1 >= steps.length) {
    const reason = `every step passed (last at ${format(step.share)})`;
    return { action: 'promote', reason, state: { ...kept, status: 'promoted', reason } };
  }
  return {
    action: 'advance',
    reason: `step ${state.stepIndex + 1} passed; ${format(steps[state.stepIndex + 1]!.share)} of the traffic next`,
    state: { ...kept, stepIndex: state.stepIndex + 1, stepStartedMs: nowMs },
  };
}

function format(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 10_000) / 10_000) : String(value);
}
