// Batch lookups routed by the model's rollout, on a private Redis: each entity reads the prediction set
// of the version `route()` assigns it (the same assignment the online ModelServer makes), the lookups are
// counted and logged in the rollout's figures as the server counts its requests, a shadow is read beside
// the baseline and only the baseline answers, the holdout reads no set, and the rollout is read once per
// batch. Without a rollout the lookups read `current` and count nothing.
import { readFileSync } from 'node:fs';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it, vi } from 'vitest';
import {
  HOLDOUT,
  ingestPredictions,
  keysForRows,
  ModelServer,
  PredictionClient,
  type RolloutSpecInput,
  RolloutStore,
  route,
  XgboostModel,
} from '../../src/index.js';
import { exampleDataDir, irisRows } from '../support/golden.js';

const harness = useRedisServer();
const model = XgboostModel.fromJsonText(readFileSync(`${exampleDataDir}model.json`, 'utf8'));
const iris = irisRows();
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const LOWER = ['setosa', 'versicolor', 'virginica'];
const UPPER = ['SETOSA', 'VERSICOLOR', 'VIRGINICA'];
const row = (index: number) => Array.from(iris.features.subarray(index * 4, index * 4 + 4));

/** Ingests the iris predictions as `version`, its labels spelled `labels` (so answers tell versions apart). */
async function ingest(namespace: string, version: string, labels: readonly string[]) {
  const classes = new Int32Array(iris.rows);
  model.predictClassesInto(iris.features, iris.rows, classes);
  await ingestPredictions(harness.redis, {
    model: 'iris',
    namespace,
    version,
    keys: keysForRows({ scheme: 'python-text' }, { data: iris.features, rows: iris.rows, width: 4 }),
    labels: Array.from(classes, (c) => labels[c] as string),
    keyScheme: { scheme: 'python-text' },
    classNames: [...labels],
    featureCount: 4,
  });
}

/** Starts a rollout of iris from a spec without its model (the store's schema checks it). */
async function withRollout(namespace: string, spec: Record<string, unknown>) {
  const store = new RolloutStore(harness.redis, { model: 'iris', namespace });
  await store.start({ ...spec, model: 'iris' } as RolloutSpecInput, { nowMs: 0 });
  return store;
}

const canary = {
  strategy: 'canary' as const,
  baseline: 'v1',
  candidate: 'v2',
  steps: [
    { share: 0.3, holdMs: 60_000, minRequests: 10 },
    { share: 1, holdMs: 60_000 },
  ],
};
const queries = Array.from({ length: iris.rows }, (_, index) => ({ features: row(index), key: `flower-${index}` }));

describe('PredictionClient.lookupMany under a rollout', () => {
  it('reads the set of the version route() assigns each entity, and counts each lookup as the server does', async () => {
    const namespace = harness.namespace('routed');
    await ingest(namespace, 'v1', LOWER);
    await ingest(namespace, 'v2', UPPER);
    const store = await withRollout(namespace, canary);
    const state = (await store.read())!.rollout;
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace });
    const results = await client.lookupMany(queries);

    const expected = queries.map((query) => route(state, query.key));
    results.forEach((result, index) => {
      const chosen = expected[index]!;
      expect(chosen.arm).not.toBe('holdout');
      const version = chosen.arm === 'holdout' ? '' : chosen.version;
      expect(result).toMatchObject({ status: 'hit', version, arm: chosen.arm });
      const value = (result as { value: string }).value;
      expect(version === 'v2' ? UPPER : LOWER).toContain(value);
    });
    const candidates = results.filter((result) => 'version' in result && result.version === 'v2').length;
    expect(candidates).toBeGreaterThan(0);
    expect(candidates).toBeLessThan(queries.length);

    const figures = await store.figures();
    expect(figures.arms.v1?.requests).toBe(queries.length - candidates);
    expect(figures.arms.v2?.requests).toBe(candidates);
    expect(figures.candidateRequestsThisStep).toBe(candidates);
    // The candidate's lookups are compared with the baseline's set: every label differs in spelling.
    expect(figures.arms.v2).toMatchObject({ compared: candidates, disagreements: candidates });
    const log = await harness.redis.xrange(store.keys.rolloutLog, '-', '+');
    expect(log.filter(([, fields]) => fields[1] === 'assigned')).toHaveLength(queries.length);
  });

  it('assigns every entity the version the online ModelServer answers it with', async () => {
    const namespace = harness.namespace('same-split');
    await ingest(namespace, 'v1', LOWER);
    await ingest(namespace, 'v2', UPPER);
    const store = await withRollout(namespace, { ...canary, holdout: 0.1 });
    const server = new ModelServer({
      name: 'iris',
      featureNames: FEATURES,
      versions: [
        { version: 'v1', model, labels: LOWER },
        { version: 'v2', model, labels: UPPER },
      ],
      defaultVersion: 'v1',
      rollouts: store,
    });
    const online = await server.predict(
      queries.map((query) => ({
        features: Object.fromEntries(FEATURES.map((name, i) => [name, query.features[i]!])),
        key: query.key,
      })),
    );
    const batch = await new PredictionClient(harness.redis, { model: 'iris', namespace }).lookupMany(queries);
    expect(batch.map((result) => ('version' in result ? result.version : null))).toEqual(
      online.map((answer) => answer.version),
    );
    // Where both answer, they answer alike: the batch read the set the online version would have written.
    batch.forEach((result, index) => {
      if (result.status === 'hit') expect(result.value).toBe(online[index]!.prediction);
    });
  });

  it('reads a shadow beside the baseline and answers with the baseline only', async () => {
    const namespace = harness.namespace('shadow');
    await ingest(namespace, 'v1', LOWER);
    await ingest(namespace, 'v2', UPPER);
    const store = await withRollout(namespace, { strategy: 'shadow', baseline: 'v1', candidate: 'v2' });
    const results = await new PredictionClient(harness.redis, { model: 'iris', namespace }).lookupMany(
      queries.slice(0, 40),
    );
    for (const result of results) {
      expect(result).toMatchObject({ status: 'hit', version: 'v1', arm: 'baseline' });
      expect(LOWER).toContain((result as { value: string }).value);
    }
    const figures = await store.figures();
    expect(figures.arms.v1?.requests).toBe(40);
    expect(figures.arms.v2).toMatchObject({ requests: 0, compared: 40, disagreements: 40 });
  });

  it('routes held-out entities around every set: the default answers them, counted as the holdout', async () => {
    const namespace = harness.namespace('holdout');
    await ingest(namespace, 'v1', LOWER);
    await ingest(namespace, 'v2', UPPER);
    const store = await withRollout(namespace, { strategy: 'ab', baseline: 'v1', candidate: 'v2', holdout: 0.2 });
    const state = (await store.read())!.rollout;
    const client = new PredictionClient(harness.redis, {
      model: 'iris',
      namespace,
      miss: { onMiss: 'default', value: 'fallback' },
    });
    const results = await client.lookupMany(queries);
    const heldOut = queries.filter((query) => route(state, query.key).arm === 'holdout').length;
    expect(heldOut).toBeGreaterThan(0);
    expect(results.filter((result) => result.status === 'holdout')).toHaveLength(heldOut);
    for (const [index, result] of results.entries()) {
      if (route(state, queries[index]!.key).arm === 'holdout')
        expect(result).toEqual({ status: 'holdout', value: 'fallback' });
    }
    expect((await store.figures()).arms[HOLDOUT]?.requests).toBe(heldOut);
  });

  it('answers from the baseline while the candidate has no complete prediction set, counted as the baseline', async () => {
    const namespace = harness.namespace('no-candidate-set');
    await ingest(namespace, 'v1', LOWER);
    const store = await withRollout(namespace, { ...canary, steps: [{ share: 1, holdMs: 0 }] });
    const results = await new PredictionClient(harness.redis, { model: 'iris', namespace }).lookupMany(
      queries.slice(0, 20),
    );
    for (const result of results) expect(result).toMatchObject({ status: 'hit', version: 'v1', arm: 'baseline' });
    const figures = await store.figures();
    expect(figures.arms.v1?.requests).toBe(20);
    expect(figures.arms.v2).toBeUndefined();
  });

  it('reads the rollout once per batch (and within refreshMs not at all), not once per key', async () => {
    const namespace = harness.namespace('reads');
    await ingest(namespace, 'v1', LOWER);
    await ingest(namespace, 'v2', UPPER);
    await withRollout(namespace, canary);
    const read = vi.spyOn(RolloutStore.prototype, 'read');
    try {
      let clock = 0;
      const client = new PredictionClient(harness.redis, { model: 'iris', namespace, now: () => clock });
      await client.lookupMany(queries);
      expect(read).toHaveBeenCalledTimes(1);
      await client.lookupMany(queries);
      expect(read).toHaveBeenCalledTimes(1);
      clock += 1_000;
      await client.lookupMany(queries);
      expect(read).toHaveBeenCalledTimes(2);
    } finally {
      read.mockRestore();
    }
  });

  it('without a rollout reads `current` and writes no figures', async () => {
    const namespace = harness.namespace('unsplit');
    await ingest(namespace, 'v1', LOWER);
    await ingest(namespace, 'v2', UPPER);
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace });
    const results = await client.lookupMany(queries.slice(0, 30));
    for (const result of results) {
      expect(result).toMatchObject({ status: 'hit', version: 'v2' });
      expect(result).not.toHaveProperty('arm');
    }
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace });
    expect(await harness.redis.exists(store.keys.rolloutFigures, store.keys.rolloutLog)).toBe(0);
  });

  it('hands a live scorer the entity key of each miss, in one call for the batch', async () => {
    const namespace = harness.namespace('live-keys');
    await ingest(namespace, 'v1', LOWER);
    await ingest(namespace, 'v2', UPPER);
    await withRollout(namespace, canary);
    const seen: Array<{ features: readonly number[]; key?: string }> = [];
    const client = new PredictionClient(harness.redis, {
      model: 'iris',
      namespace,
      miss: {
        onMiss: 'live',
        model: {
          predictLabel: () => 'one',
          predictLabels: async (rows) => {
            seen.push(...rows);
            return rows.map(() => 'scored');
          },
        },
      },
    });
    const unknown = [
      { features: [9.1, 9.2, 9.3, 9.4], key: 'new-1' },
      { features: [9.5, 9.6, 9.7, 9.8], key: 'new-2' },
    ];
    const results = await client.lookupMany([queries[0]!, ...unknown]);
    expect(results.map((result) => result.status)).toEqual(['hit', 'live', 'live']);
    expect(seen.map((entry) => entry.key)).toEqual(['new-1', 'new-2']);
    // The answers were cached in the routed version's set: the next lookups hit.
    const again = await client.lookupMany(unknown);
    expect(again.map((result) => result.status)).toEqual(['hit', 'hit']);
  });
});
