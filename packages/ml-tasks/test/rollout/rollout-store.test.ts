// The rollout store on a private Redis: start refuses a second running rollout, the canary check reads
// the counters and applies its decision, two writers never overwrite each other (compare-and-set), and
// promote/abort switch the model's `current` prediction set: rollback is the same operation as deploy.
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import { ingestPredictions } from '../../src/index.js';
import { RolloutStore } from '../../src/rollout/rollout-store.js';
import { route } from '../../src/rollout/router.js';

const harness = useRedisServer();

async function ingest(namespace: string, version: string) {
  await ingestPredictions(harness.redis, {
    model: 'iris',
    namespace,
    version,
    keys: ['a', 'b'],
    labels: ['setosa', 'virginica'],
    keyScheme: { scheme: 'python-text' },
    classNames: ['setosa', 'versicolor', 'virginica'],
    featureCount: 4,
  });
}

const canary = {
  strategy: 'canary' as const,
  model: 'iris',
  baseline: 'v1',
  candidate: 'v2',
  steps: [
    { share: 0.1, holdMs: 1_000, minRequests: 5 },
    { share: 1, holdMs: 1_000, minRequests: 5 },
  ],
  guards: { maxErrorRate: 0.05 },
};

describe('the rollout store', () => {
  it('refuses a second running rollout for the model, and names the running one', async () => {
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace: harness.namespace('one') });
    await store.start(canary, { nowMs: 0 });
    await expect(store.start({ ...canary, candidate: 'v3' }, { nowMs: 1 })).rejects.toMatchObject({
      code: 'ROLLOUT_CONFLICT',
      message: /canary rollout running since 1970-01-01T00:00:00.000Z/,
    });
    const replaced = await store.start({ ...canary, candidate: 'v3' }, { nowMs: 2, replace: true });
    expect(replaced.spec).toMatchObject({ candidate: 'v3' });
  });

  it('refuses a malformed rollout naming the field', async () => {
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace: harness.namespace('bad') });
    await expect(store.start({ ...canary, steps: [] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: /rollout: steps: /,
    });
  });

  it('counts requests by route and advances, then promotes a healthy canary, switching current to the candidate', async () => {
    const namespace = harness.namespace('canary');
    await ingest(namespace, 'v1');
    await ingest(namespace, 'v2');
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace, activatePredictionSets: true });
    await store.start(canary, { nowMs: 0 });
    const serve = async (count: number) => {
      const rollout = await store.get();
      for (let i = 0; i < count; i++) await store.record(route(rollout, `entity-${i}`), { key: `entity-${i}` });
    };
    await serve(200);
    const figures = await store.figures();
    expect((figures.arms.v1?.requests ?? 0) + (figures.arms.v2?.requests ?? 0)).toBe(200);
    expect(figures.candidateRequestsThisStep).toBe(figures.arms.v2?.requests);
    expect(await store.check(500)).toMatchObject({ action: 'hold' });
    expect(await store.check(1_000)).toMatchObject({ action: 'advance' });
    expect((await store.figures()).candidateRequestsThisStep).toBe(0);
    await serve(20);
    expect(await store.check(2_000)).toMatchObject({ action: 'promote' });
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:current`)).toBe('v2');
    const log = await harness.redis.xrange(`batuta:${namespace}:pred:iris:rollout:log`, '-', '+');
    const types = log.map(([, fields]) => fields[1]);
    expect(types.filter((type) => type === 'assigned')).toHaveLength(220);
    expect(types.filter((type) => type !== 'assigned')).toEqual(['started', 'advance', 'promote']);
    const recent = await store.recentLog({ count: 2 });
    expect(recent.map((entry) => entry.type)).toEqual(['promote', 'advance']);
    expect(recent[0]?.fields).toMatchObject({ step: '2' });
    expect((await store.recentLog({ count: 1, withAssignments: true }))[0]?.type).toBe('promote');
  });

  it('counts a batch exactly and logs it as one entry with a bounded, evenly spaced sample', async () => {
    const namespace = harness.namespace('record-many');
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace, logSampleSize: 4 });
    await store.start(canary, { nowMs: 0 });
    const entries = Array.from({ length: 1_000 }, (_, i) => ({
      route:
        i % 10 === 9
          ? ({ arm: 'holdout' } as const)
          : i % 3 === 0
            ? ({ arm: 'candidate', version: 'v2' } as const)
            : ({ arm: 'baseline', version: 'v1' } as const),
      key: `entity-${i}`,
      error: i % 7 === 0,
      compared: true,
      disagreed: i % 2 === 0,
    }));
    await store.recordMany(entries);
    const count = (test: (i: number) => boolean) => entries.filter((_, i) => test(i)).length;
    const onCandidate = (i: number) => i % 10 !== 9 && i % 3 === 0;
    const onBaseline = (i: number) => i % 10 !== 9 && i % 3 !== 0;
    const figures = await store.figures();
    expect(figures.arms['~holdout']?.requests).toBe(count((i) => i % 10 === 9));
    expect(figures.arms.v2).toMatchObject({
      requests: count(onCandidate),
      errors: count((i) => onCandidate(i) && i % 7 === 0),
      compared: count(onCandidate),
      disagreements: count((i) => onCandidate(i) && i % 2 === 0),
    });
    expect(figures.arms.v1).toMatchObject({
      requests: count(onBaseline),
      errors: count((i) => onBaseline(i) && i % 7 === 0),
    });
    expect(figures.candidateRequestsThisStep).toBe(count(onCandidate));
    const log = await harness.redis.xrange(store.keys.rolloutLog, '-', '+');
    const assigned = log.filter(([, fields]) => fields[1] === 'assigned').map(([, fields]) => fields);
    expect(assigned).toHaveLength(1);
    const [type, n, arms, sample] = [1, 3, 5, 7].map((at) => assigned[0]![at]!);
    expect([type, n]).toEqual(['assigned', '1000']);
    expect(JSON.parse(arms!)).toEqual({ '~holdout': 100, v1: count(onBaseline), v2: count(onCandidate) });
    expect(JSON.parse(sample!)).toEqual([
      ['entity-0', 'v2'],
      ['entity-250', 'v1'],
      ['entity-500', 'v1'],
      ['entity-750', 'v2'],
    ]);
  });

  it('aborts a canary that fails too often and leaves the baseline current; abort after a promote rolls back', async () => {
    const namespace = harness.namespace('abort');
    await ingest(namespace, 'v1');
    await ingest(namespace, 'v2');
    await harness.redis.set(`batuta:${namespace}:pred:iris:current`, 'v1');
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace, activatePredictionSets: true });
    await store.start({ ...canary, steps: [{ share: 1, holdMs: 0, minRequests: 5 }] }, { nowMs: 0 });
    for (let i = 0; i < 100; i++) await store.record({ arm: 'candidate', version: 'v2' }, { error: i % 4 === 0 });
    const decision = await store.check(10);
    expect(decision).toMatchObject({ action: 'abort', reason: /^error rate 0.25/ });
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:current`)).toBe('v1');
    expect(route(await store.get(), 'anyone')).toEqual({ arm: 'baseline', version: 'v1' });

    await store.start({ strategy: 'single', model: 'iris', baseline: 'v2' }, { nowMs: 20 });
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:current`)).toBe('v2');
    await store.start({ ...canary, baseline: 'v1', candidate: 'v2' }, { nowMs: 30 });
    await store.promote(40);
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:current`)).toBe('v2');
    await store.abort(50, 'bad feedback after the promote');
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:current`)).toBe('v1');
  });

  it('never lets two writers overwrite each other: the second gets ROLLOUT_CONFLICT', async () => {
    const namespace = harness.namespace('cas');
    const first = new RolloutStore(harness.redis, { model: 'iris', namespace });
    const second = new RolloutStore(harness.redis, { model: 'iris', namespace });
    await first.start(canary, { nowMs: 0 });
    const results = await Promise.allSettled([first.advance(1), second.abort(1, 'racing')]);
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ROLLOUT_CONFLICT' });
  });

  it('keeps a bandit’s rewards in Redis and promotes its best arm', async () => {
    const namespace = harness.namespace('bandit');
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace });
    await store.start({ strategy: 'bandit', model: 'iris', baseline: 'v1', candidates: ['v2', 'v3'] }, { nowMs: 0 });
    for (let i = 0; i < 30; i++) {
      await store.reward('v1', i % 2);
      await store.reward('v2', i % 5 === 0 ? 0 : 1);
      await store.reward('v3', 0);
    }
    const rollout = await store.get();
    expect(rollout.bandit?.v2).toEqual({ pulls: 30, rewards: 24 });
    expect((await store.promote(1)).winner).toBe('v2');
  });

  it('reports an A/B test with a sample-ratio check and intervals', async () => {
    const namespace = harness.namespace('report');
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace });
    const started = await store.start({ strategy: 'ab', model: 'iris', baseline: 'v1', candidate: 'v2', split: 0.5 });
    for (let i = 0; i < 400; i++) {
      const chosen = route(started, `user-${i}`);
      await store.record(chosen);
      if (chosen.arm !== 'holdout') await store.feedback(chosen.version, chosen.arm === 'candidate' ? 1 : i % 2);
    }
    const report = await store.report();
    expect(report.sampleRatio?.mismatch).toBe(false);
    expect(report.accuracy?.significant).toBe(true);
    expect(report.accuracy?.estimate).toBeGreaterThan(0.4);
  });
});
