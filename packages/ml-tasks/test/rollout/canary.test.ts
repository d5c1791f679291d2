// The canary against a seeded traffic generator: candidates better than, equal to and worse than the
// baseline. A better or equal one is promoted through 5 % → 25 % → 100 %; a worse one (accuracy or errors)
// is aborted and everything routed back; a step holds until its time and its requests are in.
import { describe, expect, it } from 'vitest';
import { type ArmFigures, type CanaryDecision, decideCanary, emptyArmFigures } from '../../src/rollout/canary.js';
import { SeededRandom } from '../../src/rollout/random.js';
import { rolloutSpecSchema } from '../../src/rollout/rollout-spec.js';
import { type RolloutState, route } from '../../src/rollout/router.js';

const spec = rolloutSpecSchema.parse({
  strategy: 'canary',
  model: 'iris',
  baseline: 'v1',
  candidate: 'v2',
  steps: [
    { share: 0.05, holdMs: 60_000, minRequests: 100 },
    { share: 0.25, holdMs: 60_000, minRequests: 100 },
    { share: 1, holdMs: 60_000, minRequests: 100 },
  ],
  guards: { maxErrorRate: 0.02, maxAccuracyDrop: 0.02 },
});

interface Behaviour {
  accuracy: number;
  errorRate: number;
}

/** 100 requests a second from 50,000 entities; a decision every 500 requests; stops at an end or 60,000. */
function simulate(seed: number, baseline: Behaviour, candidate: Behaviour) {
  const random = new SeededRandom(seed);
  let state: RolloutState = { spec, status: 'running', stepIndex: 0, stepStartedMs: 0 };
  const figures = { baseline: emptyArmFigures(), candidate: emptyArmFigures(), candidateRequestsThisStep: 0 };
  const decisions: CanaryDecision[] = [];
  let answered = 0;
  for (let n = 1; n <= 60_000 && state.status === 'running'; n++) {
    const key = `entity-${Math.floor(random.next() * 50_000)}`;
    const chosen = route(state, key);
    if (chosen.arm === 'holdout') continue;
    const arm: ArmFigures = figures[chosen.arm];
    const behaviour = chosen.arm === 'candidate' ? candidate : baseline;
    arm.requests++;
    if (chosen.arm === 'candidate') figures.candidateRequestsThisStep++;
    if (random.next() < behaviour.errorRate) arm.errors++;
    else {
      arm.feedback.trials++;
      if (random.next() < behaviour.accuracy) arm.feedback.successes++;
    }
    answered++;
    if (n % 500 === 0) {
      const decision = decideCanary(state, figures, n * 10);
      if (decision.action !== 'hold') decisions.push(decision);
      if (decision.action === 'advance') figures.candidateRequestsThisStep = 0;
      state = decision.state;
    }
  }
  return { state, decisions, answered };
}

const good: Behaviour = { accuracy: 0.75, errorRate: 0.005 };

describe('a canary rollout', () => {
  it('promotes a better candidate through every step', () => {
    const { state, decisions } = simulate(1, good, { accuracy: 0.8, errorRate: 0.005 });
    expect(state.status).toBe('promoted');
    expect(decisions.map((d) => d.action)).toEqual(['advance', 'advance', 'promote']);
  });

  it('promotes an equal candidate and almost never aborts it (at most 1 of 20 seeds)', () => {
    const outcomes = Array.from({ length: 20 }, (_, seed) => simulate(100 + seed, good, good).state.status);
    expect(outcomes.filter((status) => status === 'aborted').length).toBeLessThanOrEqual(1);
    expect(outcomes.filter((status) => status === 'promoted').length).toBeGreaterThanOrEqual(18);
  });

  it('aborts a less accurate candidate before it takes all the traffic, and routes everything back', () => {
    for (let seed = 0; seed < 10; seed++) {
      const { state, decisions } = simulate(200 + seed, good, { accuracy: 0.65, errorRate: 0.005 });
      expect(state.status).toBe('aborted');
      expect(decisions.at(-1)?.reason).toMatch(/feedback accuracy/);
      expect(state.stepIndex).toBeLessThan(2);
      expect(route(state, 'entity-1')).toEqual({ arm: 'baseline', version: 'v1' });
    }
  });

  it('aborts a candidate that fails too often, naming the error rate', () => {
    const { state, decisions } = simulate(300, good, { accuracy: 0.75, errorRate: 0.08 });
    expect(state.status).toBe('aborted');
    expect(decisions.at(-1)?.reason).toMatch(/^error rate/);
  });

  it('holds a step until its time has passed and its candidate requests are in', () => {
    const figures = { baseline: emptyArmFigures(), candidate: emptyArmFigures(), candidateRequestsThisStep: 500 };
    const running: RolloutState = { spec, status: 'running', stepIndex: 0, stepStartedMs: 0 };
    expect(decideCanary(running, figures, 59_999)).toMatchObject({ action: 'hold', reason: /holds 1 ms more/ });
    const few = { ...figures, candidateRequestsThisStep: 99 };
    expect(decideCanary(running, few, 60_000)).toMatchObject({ action: 'hold', reason: /99 of 100/ });
    expect(decideCanary(running, figures, 60_000)).toMatchObject({
      action: 'advance',
      state: { stepIndex: 1, stepStartedMs: 60_000 },
    });
  });

  it('holds, neither advancing nor aborting, while a guard is above its limit but not confidently', () => {
    const candidate = { ...emptyArmFigures(), requests: 200, errors: 5 }; // 2.5 % of 200: not confidently above 2 %
    const figures = { baseline: emptyArmFigures(), candidate, candidateRequestsThisStep: 200 };
    const running: RolloutState = { spec, status: 'running', stepIndex: 0, stepStartedMs: 0 };
    expect(decideCanary(running, figures, 120_000)).toMatchObject({ action: 'hold', reason: /not confidently bad/ });
  });
});
