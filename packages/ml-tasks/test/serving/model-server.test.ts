// Online scoring with rollouts, on a private Redis and the real iris model: every version gated before it
// serves, a gated-out candidate answered for by the baseline, a shadow that never changes the answer, a
// bad canary (disagreeing with the baseline) aborted by its guard with every request answered, and
// request validation by feature name and value.
import { readFileSync } from 'node:fs';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it, vi } from 'vitest';
import { ModelServer, RolloutStore, SeededRandom, XgboostModel } from '../../src/index.js';
import { exampleDataDir, irisRows } from '../support/golden.js';

const harness = useRedisServer();
const LABELS = ['setosa', 'versicolor', 'virginica'];
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const modelText = readFileSync(`${exampleDataDir}model.json`, 'utf8');
const good = XgboostModel.fromJsonText(modelText);
/** The same trees with every leaf and threshold zeroed: every row gets class 0. */
const broken = (() => {
  const document = JSON.parse(modelText);
  for (const tree of document.learner.gradient_booster.model.trees) {
    tree.base_weights = tree.base_weights.map(() => 0);
    tree.split_conditions = tree.split_conditions.map(() => 0);
  }
  return XgboostModel.fromJson(document);
})();
const iris = irisRows();
const trusted = { features: iris.features, labels: iris.labels, rows: iris.rows, width: 4 };
const rows = Array.from({ length: iris.rows }, (_, i) => ({
  features: Object.fromEntries(FEATURES.map((name, j) => [name, iris.features[i * 4 + j]!])),
  key: `flower-${i}`,
}));

function server(namespace: string, options: { gate?: boolean; events?: string[] } = {}) {
  const rollouts = new RolloutStore(harness.redis, { model: 'iris', namespace });
  const model = new ModelServer({
    name: 'iris',
    featureNames: FEATURES,
    versions: [
      { version: 'v1', model: good, labels: LABELS },
      { version: 'v2', model: broken, labels: LABELS },
    ],
    defaultVersion: 'v1',
    ...(options.gate === false ? {} : { gate: { trusted, bounds: { accuracy: { min: 0.9 } } } }),
    rollouts,
    stateRefreshMs: 0,
    random: new SeededRandom(4),
    onEvent: (event) => options.events?.push(`${event.event} ${event.version}`),
  });
  model.checkGates();
  return { model, rollouts };
}

describe('the model server', () => {
  it('gates every version: the broken one is not servable and a canary routed to it is answered by the baseline', async () => {
    const events: string[] = [];
    const { model, rollouts } = server(harness.namespace('gate'), { events });
    expect(events).toEqual(['gate_failed v2']);
    expect((await model.status()).versions).toMatchObject([
      { version: 'v1', servable: true },
      { version: 'v2', servable: false },
    ]);
    await rollouts.start({ strategy: 'ab', model: 'iris', baseline: 'v1', candidate: 'v2', split: 0.5 });
    const answers = await model.predict(rows);
    expect(answers.every((answer) => answer.version === 'v1')).toBe(true);
    const expected = Array.from({ length: iris.rows }, (_, i) => LABELS[iris.labels[i]!]);
    const accuracy = answers.filter((answer, i) => answer.prediction === expected[i]).length / iris.rows;
    expect(accuracy).toBeGreaterThan(0.9);
    expect(events.filter((event) => event === 'served_fallback v2').length).toBeGreaterThan(0);
  });

  it('refuses to answer when no version passes its gate (MODEL_INVALID, retryable)', async () => {
    const rollouts = new RolloutStore(harness.redis, { model: 'iris', namespace: harness.namespace('none') });
    const model = new ModelServer({
      name: 'iris',
      featureNames: FEATURES,
      versions: [{ version: 'v2', model: broken }],
      defaultVersion: 'v2',
      gate: { trusted, bounds: { accuracy: { min: 0.9 } } },
      rollouts,
    });
    model.checkGates();
    await expect(model.predict(rows.slice(0, 1))).rejects.toMatchObject({ code: 'MODEL_INVALID', retryable: true });
  });

  it('answers with the baseline in a shadow rollout, exactly as without one, and logs the shadow’s agreement', async () => {
    const { model, rollouts } = server(harness.namespace('shadow'), { gate: false });
    const alone = await model.predict(rows);
    await rollouts.start({ strategy: 'shadow', model: 'iris', baseline: 'v1', candidate: 'v2' });
    const shadowed = await model.predict(rows);
    expect(shadowed.map((a) => a.prediction)).toEqual(alone.map((a) => a.prediction));
    expect(shadowed.every((a) => a.version === 'v1' && a.shadow?.version === 'v2')).toBe(true);
    const figures = await rollouts.figures();
    expect(figures.arms.v2?.compared).toBe(iris.rows);
    expect(figures.arms.v2?.disagreements).toBe(shadowed.filter((a) => a.shadow?.agreed === false).length);
    expect(figures.arms.v2?.disagreements).toBeGreaterThan(50);
  });

  it('counts a batch of requests in one log entry, the counts per arm exact, as the batch lookups do', async () => {
    const { model, rollouts } = server(harness.namespace('batch-log'), { gate: false });
    await rollouts.start({
      strategy: 'canary',
      model: 'iris',
      baseline: 'v1',
      candidate: 'v2',
      steps: [{ share: 0.3, holdMs: 0, minRequests: 10 }],
    });
    const answers = await model.predict(rows);
    const candidates = answers.filter((answer) => answer.version === 'v2').length;
    const log = await harness.redis.xrange(rollouts.keys.rolloutLog, '-', '+');
    const assigned = log.filter(([, fields]) => fields[1] === 'assigned');
    expect(assigned).toHaveLength(1);
    const fields = assigned[0]![1];
    const entry = Object.fromEntries(fields.flatMap((field, at) => (at % 2 === 0 ? [[field, fields[at + 1]!]] : [])));
    expect(entry).toMatchObject({ n: String(rows.length) });
    expect(JSON.parse(entry.arms!)).toEqual({ v1: rows.length - candidates, v2: candidates });
    const sample = JSON.parse(entry.sample!) as Array<[string, string]>;
    expect(sample).toHaveLength(20);
    for (const [key, arm] of sample) expect(answers[Number(key.slice('flower-'.length))]!.version).toBe(arm);
    const figures = await rollouts.figures();
    expect(figures.arms.v1?.requests).toBe(rows.length - candidates);
    expect(figures.arms.v2?.requests).toBe(candidates);
  });

  it('aborts a bad canary on its disagreement guard, answering every request before and after', async () => {
    const { model, rollouts } = server(harness.namespace('canary'), { gate: false });
    await rollouts.start({
      strategy: 'canary',
      model: 'iris',
      baseline: 'v1',
      candidate: 'v2',
      steps: [
        { share: 0.3, holdMs: 0, minRequests: 10 },
        { share: 1, holdMs: 0, minRequests: 10 },
      ],
      guards: { maxDisagreementRate: 0.2 },
    });
    const first = await model.predict(rows);
    expect(first.every((answer) => answer.prediction !== null)).toBe(true);
    expect(first.some((answer) => answer.version === 'v2')).toBe(true);
    const decision = await rollouts.check();
    expect(decision).toMatchObject({ action: 'abort', reason: /^disagreement/ });
    const after = await model.predict(rows);
    expect(after.every((answer) => answer.version === 'v1' && answer.prediction !== null)).toBe(true);
  });

  it('routes a running bandit by its rewards: traffic drifts to the version that earns them', async () => {
    const { model, rollouts } = server(harness.namespace('bandit'), { gate: false });
    await rollouts.start({
      strategy: 'bandit',
      model: 'iris',
      baseline: 'v1',
      candidates: ['v2'],
      explorationFloor: 0.1,
    });
    const expected = Array.from({ length: iris.rows }, (_, i) => LABELS[iris.labels[i]!]);
    // Every fifth row: all three classes, and few enough rewards to keep the test quick.
    const sample = rows.map((row, i) => ({ features: row.features, i })).filter(({ i }) => i % 5 === 0);
    const served = { v1: 0, v2: 0 };
    for (let round = 0; round < 3; round++) {
      const answers = await model.predict(sample.map(({ features }) => ({ features })));
      for (const [j, answer] of answers.entries()) {
        served[answer.version as 'v1' | 'v2']++;
        await model.feedback(answer.version!, answer.prediction === expected[sample[j]!.i] ? 1 : 0);
      }
    }
    const last = await model.predict(sample.map(({ features }) => ({ features })));
    const toGood = last.filter((answer) => answer.version === 'v1').length / last.length;
    expect(served.v2).toBeGreaterThan(0);
    expect(toGood).toBeGreaterThan(0.8);
  });

  it('with figuresFlushMs, answers without waiting for the figures and writes them summed on close', async () => {
    const namespace = harness.namespace('batched');
    const rollouts = new RolloutStore(harness.redis, { model: 'iris', namespace });
    await rollouts.start({ strategy: 'shadow', model: 'iris', baseline: 'v1', candidate: 'v2' });
    const model = new ModelServer({
      name: 'iris',
      featureNames: FEATURES,
      versions: [
        { version: 'v1', model: good, labels: LABELS },
        { version: 'v2', model: broken, labels: LABELS },
      ],
      defaultVersion: 'v1',
      rollouts,
      figuresFlushMs: 3_600_000,
    });
    const answers = await model.predict(rows);
    expect(answers.every((answer) => answer.version === 'v1')).toBe(true);
    expect((await rollouts.figures()).arms).toEqual({});
    await model.close();
    const figures = await rollouts.figures();
    expect(figures.arms.v1?.requests).toBe(iris.rows);
    expect(figures.arms.v2?.compared).toBe(iris.rows);
    expect(figures.arms.v2?.disagreements).toBe(answers.filter((a) => a.shadow?.agreed === false).length);
  });

  it('answers without a wait (predictNow) exactly as predict does, once the rollout state is cached', async () => {
    const namespace = harness.namespace('now');
    const rollouts = new RolloutStore(harness.redis, { model: 'iris', namespace });
    await rollouts.start({ strategy: 'ab', model: 'iris', baseline: 'v1', candidate: 'v2', split: 0.5, holdout: 0.1 });
    let clock = 5_000_000;
    const options = {
      name: 'iris',
      featureNames: FEATURES,
      versions: [
        { version: 'v1', model: good, labels: LABELS },
        { version: 'v2', model: broken, labels: LABELS },
      ],
      defaultVersion: 'v1',
      rollouts,
      stateRefreshMs: 1_000,
      now: () => clock,
    };
    // Without summed figures every predict awaits its write: never without a wait.
    const unbatched = new ModelServer(options);
    await unbatched.predict(rows.slice(0, 1));
    expect(unbatched.predictNow(rows.slice(0, 1))).toBeUndefined();
    const model = new ModelServer({ ...options, figuresFlushMs: 3_600_000 });
    const keyed = rows.map((row, i) => ({ ...row, key: `flower-${i}` }));
    // Before the state was ever read: a wait is needed.
    expect(model.predictNow(keyed)).toBeUndefined();
    const viaPredict = await model.predict(keyed);
    const viaNow = model.predictNow(keyed);
    expect(viaNow).toEqual(viaPredict);
    expect(new Set(viaNow!.map((answer) => answer.arm))).toEqual(new Set(['baseline', 'candidate', 'holdout']));
    // After a quiet spell longer than three refresh times the state must be read again first.
    clock += 10_000;
    expect(model.predictNow(keyed)).toBeUndefined();
    await model.close();
    // Both batches were counted, the one answered without a wait too.
    const figures = await rollouts.figures();
    const counted = Object.values(figures.arms).reduce((sum, arm) => sum + arm.requests, 0);
    expect(counted).toBe(2 * keyed.length + 1);
  });

  it('rereads the rollout in the background while busy, and waits for it after a quiet spell', async () => {
    const namespace = harness.namespace('refresh');
    const rollouts = new RolloutStore(harness.redis, { model: 'iris', namespace });
    let clock = 1_000_000;
    const model = new ModelServer({
      name: 'iris',
      featureNames: FEATURES,
      versions: [
        { version: 'v1', model: good, labels: LABELS },
        { version: 'v2', model: good, labels: LABELS },
      ],
      defaultVersion: 'v1',
      rollouts,
      stateRefreshMs: 1_000,
      now: () => clock,
    });
    const one = rows.slice(0, 1);
    expect((await model.predict(one))[0]?.version).toBe('v1');
    await rollouts.start({ strategy: 'single', model: 'iris', baseline: 'v2' });
    clock += 1_500;
    // Busy: answered from the state read 1.5 s ago while the new one is read …
    expect((await model.predict(one))[0]?.version).toBe('v1');
    // … and the next requests get the new one.
    await vi.waitFor(async () => expect((await model.predict(one))[0]?.version).toBe('v2'), { timeout: 5_000 });
    await rollouts.start({ strategy: 'single', model: 'iris', baseline: 'v1' }, { replace: true });
    clock += 10_000;
    // After a quiet spell (more than 3× the refresh time), the first request waits for a current state.
    expect((await model.predict(one))[0]?.version).toBe('v1');
  });

  it('validates requests by feature name and value', () => {
    const { model } = server(harness.namespace('schema'), { gate: false });
    expect(model.requestSchema.safeParse(rows[0]).success).toBe(true);
    const unknown = model.requestSchema.safeParse({ features: { ...rows[0]!.features, petal_colour: 1 } });
    expect(unknown.success).toBe(false);
    const missing = model.requestSchema.safeParse({ features: { sepal_length: 1 } });
    expect(missing.error?.issues.map((issue) => issue.path.join('.'))).toContain('features.sepal_width');
    const infinite = model.requestSchema.safeParse({ features: { ...rows[0]!.features, sepal_length: Infinity } });
    expect(infinite.error?.issues[0]?.path).toEqual(['features', 'sepal_length']);
  });
});
