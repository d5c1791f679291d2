// The bandit against a seeded traffic generator: three versions with true accuracies 0.50, 0.55 and 0.60.
// Stated bound: over 10,000 requests the mean regret (expected reward lost against always serving the best
// version) stays below 150 for Thompson sampling and 400 for UCB1, both with a 5 % exploration floor,
// against about 500 for a uniform split; every arm keeps at least its share of the floor.
import { describe, expect, it } from 'vitest';
import { BanditPolicy } from '../../src/rollout/bandit.js';
import { SeededRandom } from '../../src/rollout/random.js';

const truth: Record<string, number> = { v1: 0.5, v2: 0.55, v3: 0.6 };
const best = Math.max(...Object.values(truth));
const REQUESTS = 10_000;

function simulate(algorithm: 'thompson' | 'ucb', seed: number, floor = 0.05) {
  const policy = new BanditPolicy(Object.keys(truth), algorithm, floor);
  const random = new SeededRandom(seed);
  const world = new SeededRandom(seed + 10_000);
  let regret = 0;
  const pulls: Record<string, number> = { v1: 0, v2: 0, v3: 0 };
  for (let i = 0; i < REQUESTS; i++) {
    const arm = policy.choose(random);
    pulls[arm]! += 1;
    regret += best - truth[arm]!;
    policy.reward(arm, world.next() < truth[arm]! ? 1 : 0);
  }
  return { regret, pulls, policy };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

describe('the bandit over 10,000 requests', () => {
  it('keeps Thompson sampling’s regret below 150 and finds the best version', () => {
    const runs = Array.from({ length: 10 }, (_, seed) => simulate('thompson', seed));
    const mean = runs.reduce((sum, run) => sum + run.regret, 0) / runs.length;
    expect(mean).toBeLessThan(150);
    expect(median(runs.map((run) => (run.policy.best() === 'v3' ? 1 : 0)))).toBe(1);
  });

  it('keeps UCB1’s regret below 400, under a uniform split’s', () => {
    const runs = Array.from({ length: 10 }, (_, seed) => simulate('ucb', seed));
    const mean = runs.reduce((sum, run) => sum + run.regret, 0) / runs.length;
    const uniform = (REQUESTS * Object.values(truth).reduce((sum, p) => sum + (best - p), 0)) / 3;
    expect(mean).toBeLessThan(400);
    expect(mean).toBeLessThan(uniform);
  });

  it('gives every arm at least its share of the exploration floor', () => {
    const { pulls } = simulate('thompson', 3, 0.09);
    for (const arm of Object.keys(truth)) expect(pulls[arm]! / REQUESTS).toBeGreaterThan((0.09 / 3) * 0.8);
  });

  it('resumes from stored statistics and refuses rewards outside [0, 1]', () => {
    const { policy } = simulate('thompson', 5);
    const resumed = new BanditPolicy(policy.arms, 'thompson', 0.05, policy.snapshot());
    expect(resumed.snapshot()).toEqual(policy.snapshot());
    expect(() => resumed.reward('v1', 1.5)).toThrow(RangeError);
    expect(() => resumed.reward('v9', 1)).toThrow(/unknown arm 'v9'/);
  });
});
