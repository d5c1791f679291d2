// Routing: sticky by entity across restarts, splits that match their declared shares, a canary that only
// adds entities as it grows, a shadow that never changes the caller's answer, and a holdout routed around
// every model.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RolloutSpecInput, rolloutSpecSchema } from '../../src/rollout/rollout-spec.js';
import { type RolloutState, route, stickyBucket } from '../../src/rollout/router.js';
import { sampleRatioMismatch } from '../../src/rollout/statistics.js';

function state(input: RolloutSpecInput, extra: Partial<RolloutState> = {}): RolloutState {
  return { spec: rolloutSpecSchema.parse(input), status: 'running', stepIndex: 0, stepStartedMs: 0, ...extra };
}

const keys = Array.from({ length: 20_000 }, (_, i) => `customer-${i}`);
const canary: RolloutSpecInput = {
  strategy: 'canary',
  model: 'iris',
  baseline: 'v1',
  candidate: 'v2',
  steps: [
    { share: 0.05, holdMs: 0 },
    { share: 0.25, holdMs: 0 },
    { share: 1, holdMs: 0 },
  ],
};

describe('the router', () => {
  it('gives an entity the same route every time, also from a new state object (a restarted server)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (key) => {
        const before = route(state({ strategy: 'ab', model: 'iris', baseline: 'v1', candidate: 'v2' }), key);
        const after = route(state({ strategy: 'ab', model: 'iris', baseline: 'v1', candidate: 'v2' }), key);
        expect(after).toEqual(before);
      }),
    );
  });

  it('splits an A/B test in its declared shares (20,000 entities, 30 % ± 1.5 %)', () => {
    const ab = state({ strategy: 'ab', model: 'iris', baseline: 'v1', candidate: 'v2', split: 0.3 });
    const onCandidate = keys.filter((key) => route(ab, key).arm === 'candidate').length / keys.length;
    expect(onCandidate).toBeGreaterThan(0.285);
    expect(onCandidate).toBeLessThan(0.315);
  });

  it('keeps every entity already on the canary there as the canary grows', () => {
    const at = (stepIndex: number) =>
      new Set(keys.filter((key) => route(state(canary, { stepIndex }), key).arm === 'candidate'));
    const [five, twentyFive, all] = [at(0), at(1), at(2)];
    expect(five.size / keys.length).toBeCloseTo(0.05, 1);
    expect(twentyFive.size / keys.length).toBeCloseTo(0.25, 1);
    for (const key of five) expect(twentyFive.has(key)).toBe(true);
    expect(all.size).toBe(keys.length);
  });

  it('answers with the baseline in a shadow rollout, whatever the key, and names the shadow', () => {
    const shadow = state({ strategy: 'shadow', model: 'iris', baseline: 'v1', candidate: 'v2' });
    fc.assert(
      fc.property(fc.string(), (key) => {
        expect(route(shadow, key)).toEqual({ arm: 'baseline', version: 'v1', shadow: 'v2' });
      }),
    );
  });

  it('passes the sample-ratio check as built, and fails it when the router is deliberately biased', () => {
    const ab = state({ strategy: 'ab', model: 'iris', baseline: 'v1', candidate: 'v2', split: 0.5 });
    const counts = (bias: number) => {
      const tally = [0, 0];
      for (const [index, key] of keys.entries()) {
        let arm = route(ab, key).arm;
        // The bug under test: every (1/bias)-th candidate assignment silently falls back to the baseline.
        if (bias > 0 && arm === 'candidate' && index % bias === 0) arm = 'baseline';
        tally[arm === 'candidate' ? 1 : 0]! += 1;
      }
      return tally;
    };
    expect(sampleRatioMismatch(counts(0), [0.5, 0.5]).mismatch).toBe(false);
    expect(sampleRatioMismatch(counts(25), [0.5, 0.5]).mismatch).toBe(true);
  });

  it('routes a holdout share around every model, independently of the split', () => {
    const ab = state({ strategy: 'ab', model: 'iris', baseline: 'v1', candidate: 'v2', holdout: 0.02 });
    const routes = keys.map((key) => route(ab, key));
    const held = routes.filter((r) => r.arm === 'holdout').length / keys.length;
    expect(held).toBeGreaterThan(0.015);
    expect(held).toBeLessThan(0.025);
    const served = routes.filter((r) => r.arm !== 'holdout');
    const onCandidate = served.filter((r) => r.arm === 'candidate').length / served.length;
    expect(onCandidate).toBeGreaterThan(0.48);
    expect(onCandidate).toBeLessThan(0.52);
  });

  it('sends everything to the baseline once aborted, and to the candidate once promoted', () => {
    const sample = keys.slice(0, 500);
    expect(sample.every((key) => route(state(canary, { status: 'aborted' }), key).arm === 'baseline')).toBe(true);
    expect(
      sample.every((key) => {
        const r = route(state(canary, { status: 'promoted' }), key);
        return r.arm === 'candidate' && r.version === 'v2';
      }),
    ).toBe(true);
  });

  it('reshuffles with another salt, and buckets are uniform in [0, 1)', () => {
    expect(stickyBucket('a', 'split', 'k')).not.toBe(stickyBucket('b', 'split', 'k'));
    const buckets = keys.map((key) => stickyBucket('salt', 'split', key));
    expect(Math.min(...buckets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...buckets)).toBeLessThan(1);
    const mean = buckets.reduce((sum, b) => sum + b, 0) / buckets.length;
    expect(mean).toBeCloseTo(0.5, 2);
  });

  it('assigns every entity exactly as servers before the one-shot hash did (SHA-256 of salt, purpose and key)', () => {
    // The definition the deployed assignments come from: a stream of the parts, separated by NUL.
    const streamed = (salt: string, purpose: string, key: string) =>
      createHash('sha256')
        .update(salt)
        .update('\0')
        .update(purpose)
        .update('\0')
        .update(key)
        .digest()
        .readUIntBE(0, 6) /
      2 ** 48;
    expect(stickyBucket('iris', 'split', 'flower-1')).toBe(0.4473401364931604);
    fc.assert(
      fc.property(
        fc.string(),
        fc.constantFrom('split', 'holdout'),
        fc.string({ unit: 'grapheme' }),
        (salt, purpose, key) => stickyBucket(salt, purpose, key) === streamed(salt, purpose, key),
      ),
      { numRuns: 500 },
    );
  });

  it('refuses a canary whose steps do not grow, naming the field', () => {
    const result = rolloutSpecSchema.safeParse({
      ...canary,
      steps: [
        { share: 0.5, holdMs: 0 },
        { share: 0.25, holdMs: 0 },
      ],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ['steps'], message: 'canary steps must grow in share' });
  });
});
