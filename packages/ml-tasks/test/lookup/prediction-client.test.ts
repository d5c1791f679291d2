import { readFileSync } from 'node:fs';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import {
  drainMisses,
  ingestPredictions,
  type KeyScheme,
  keysForRows,
  liveScorer,
  PredictionClient,
  XgboostModel,
} from '../../src/index.js';
import { exampleDataDir, irisRows } from '../support/golden.js';

const LABELS = ['setosa', 'versicolor', 'virginica'];
const harness = useRedisServer();
const model = XgboostModel.fromJsonText(readFileSync(`${exampleDataDir}model.json`, 'utf8'));
const iris = irisRows();

/** Scores the iris rows with the seed model and ingests them under `version`. */
async function ingestIris(
  namespace: string,
  version: string,
  scheme: KeyScheme = { scheme: 'python-text' },
  labels = LABELS,
) {
  const classes = new Int32Array(iris.rows);
  model.predictClassesInto(iris.features, iris.rows, classes);
  const keys = keysForRows(scheme, { data: iris.features, rows: iris.rows, width: 4 });
  return ingestPredictions(harness.redis, {
    model: 'iris',
    namespace,
    version,
    keys,
    labels: Array.from(classes, (c) => labels[c] as string),
    keyScheme: scheme,
    classNames: labels,
    featureCount: 4,
  });
}

describe('PredictionClient.lookup', () => {
  it('finds a batch prediction by features, hashed as the ingest did, in the current version', async () => {
    const namespace = harness.namespace('lookup');
    await ingestIris(namespace, 'v1');
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace });
    expect(await client.lookup([5.0, 2.9, 1.1, 0.4])).toEqual({
      status: 'hit',
      value: 'setosa',
      key: 'd8c77d145fb8bc961f190b590e08a4056a61ece47304cae94d1f6d2c9e69d7da',
      version: 'v1',
    });
    expect((await client.lookup({ features: Float64Array.of(5.7, 3.7, 1.6, -0.0) })).status).toBe('hit');
    await expect(client.lookup([5.0, 2.9, 1.1])).rejects.toMatchObject({ code: 'FEATURE_COUNT_MISMATCH' });
  });

  it('follows current after a switch, within refreshMs', async () => {
    const namespace = harness.namespace('lookup');
    await ingestIris(namespace, 'v1');
    let clock = 0;
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace, refreshMs: 1000, now: () => clock });
    expect(await client.lookup([5.0, 2.9, 1.1, 0.4])).toMatchObject({ version: 'v1', value: 'setosa' });
    await ingestIris(namespace, 'v2', { scheme: 'python-text' }, ['SETOSA', 'VERSICOLOR', 'VIRGINICA']);
    expect(await client.lookup([5.0, 2.9, 1.1, 0.4])).toMatchObject({ version: 'v1' });
    clock += 1000;
    expect(await client.lookup([5.0, 2.9, 1.1, 0.4])).toMatchObject({ version: 'v2', value: 'SETOSA' });
  });

  it('answers a default, or missing, on a miss', async () => {
    const namespace = harness.namespace('lookup');
    await ingestIris(namespace, 'v1');
    const client = new PredictionClient(harness.redis, {
      model: 'iris',
      namespace,
      miss: { onMiss: 'default', value: 'setosa' },
    });
    expect(await client.lookup([9.9, 9.9, 9.9, 9.9])).toMatchObject({ status: 'default', value: 'setosa' });
    expect(await client.lookup([9.9, 9.9, 9.9, 9.9], { miss: { onMiss: 'missing' } })).toMatchObject({
      status: 'missing',
      recorded: false,
    });
  });

  it('scores a miss live and caches the answer, so the next lookup is a hit', async () => {
    const namespace = harness.namespace('lookup');
    await ingestIris(namespace, 'v1');
    const client = new PredictionClient(harness.redis, {
      model: 'iris',
      namespace,
      miss: { onMiss: 'live', model: liveScorer(model, LABELS), cacheTtlSeconds: 60 },
    });
    const features = [7.9, 3.1, 6.6, 2.2];
    expect(await client.lookup(features)).toMatchObject({ status: 'live', value: 'virginica', version: 'v1' });
    expect(await client.lookup(features)).toMatchObject({ status: 'hit', value: 'virginica' });
    const { key } = (await client.lookup(features)) as { key: string };
    const ttl = await harness.redis.ttl(`batuta:${namespace}:pred:iris:v:v1:${key}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('records misses for the next batch run, which drains each distinct input once', async () => {
    const namespace = harness.namespace('lookup');
    await ingestIris(namespace, 'v1');
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace, miss: { onMiss: 'record' } });
    expect(await client.lookup([7.0, 3.0, 6.0, 2.0])).toMatchObject({ status: 'missing', recorded: true });
    await client.lookup([7.0, 3.0, 6.0, 2.0]);
    await client.lookup([0.1 + 0.2, Number.NaN, -0, 1e-7]);
    const drained = await drainMisses(harness.redis, { model: 'iris', namespace });
    expect(drained.entries).toBe(3);
    expect(drained.rows).toBe(2);
    expect(drained.width).toBe(4);
    expect(Array.from(drained.data.subarray(0, 4))).toEqual([7, 3, 6, 2]);
    expect(drained.data[4]).toBe(0.1 + 0.2);
    expect(Number.isNaN(drained.data[5])).toBe(true);
    expect(Object.is(drained.data[6], -0)).toBe(true);
    expect((await drainMisses(harness.redis, { model: 'iris', namespace })).entries).toBe(0);
  });

  it('reads plain-layout keys and other schemes from what the ingest recorded', async () => {
    const namespace = harness.namespace('lookup');
    const fixed: KeyScheme = { scheme: 'fixed-point', decimals: 1 };
    await ingestIris(namespace, 'v1', fixed);
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace });
    const hit = await client.lookup([5.0, 2.9, 1.1, 0.4]);
    expect(hit).toMatchObject({ status: 'hit', value: 'setosa' });
    expect(await client.lookup([5.0, 2.9, 1.1, 0.4 + 1e-12])).toMatchObject({ status: 'hit' });

    await ingestPredictions(harness.redis, {
      model: 'customers',
      namespace,
      layout: 'plain',
      prefix: `${namespace}:`,
      keyScheme: { scheme: 'entity-id', column: 'id' },
      keys: ['17', '18'],
      labels: ['churn', 'stay'],
    });
    const customers = new PredictionClient(harness.redis, { model: 'customers', namespace });
    expect(await customers.lookup({ id: 18 })).toEqual({ status: 'hit', value: 'stay', key: '18' });
    expect(await harness.redis.get(`${namespace}:17`)).toBe('churn');
  });

  it('applies the miss policy when nothing was ingested yet', async () => {
    const client = new PredictionClient(harness.redis, {
      model: 'iris',
      namespace: harness.namespace('lookup'),
      miss: { onMiss: 'default', value: 'setosa' },
    });
    expect(await client.lookup([1, 2, 3, 4])).toEqual({ status: 'default', value: 'setosa' });
  });
});
