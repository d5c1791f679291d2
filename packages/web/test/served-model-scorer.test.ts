// The `live` miss policy pointed at the model server (issue #13): a PredictionClient's misses are scored
// by `batuta serve`'s HTTP app with a bearer token, each row with its entity key, so the server routes it
// by the same rollout as the lookup did; the answer is cached in the routed version's set. A refused
// token is an error that names the status, not a silent miss.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ingestPredictions,
  ModelServer,
  PredictionClient,
  RolloutStore,
  servedModelScorer,
  XgboostModel,
} from '@batuta/ml-tasks';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import { AuthStore, createServingApp } from '../src/index.js';

const harness = useRedisServer();
const modelText = readFileSync(
  fileURLToPath(new URL('../../../examples/iris-batch/data/model.json', import.meta.url)),
  'utf8',
);
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const LOWER = ['setosa', 'versicolor', 'virginica'];
const OTHER = ['x', 'y', 'z'];

describe('servedModelScorer: misses scored by the model server', () => {
  it('scores a batch of misses over HTTP, routed by the same keys, and caches them in the routed sets', async () => {
    const namespace = harness.namespace('served-scorer');
    for (const [version, labels] of [
      ['v1', LOWER],
      ['v2', OTHER],
    ] as const) {
      await ingestPredictions(harness.redis, {
        model: 'iris',
        namespace,
        version,
        keys: ['0000'],
        labels: [labels[0] as string],
        keyScheme: { scheme: 'python-text' },
        classNames: [...labels],
        featureCount: 4,
      });
    }
    const rollouts = new RolloutStore(harness.redis, { model: 'iris', namespace });
    await rollouts.start({ strategy: 'ab', model: 'iris', baseline: 'v1', candidate: 'v2', split: 0.5 });
    const model = XgboostModel.fromJsonText(modelText);
    const server = new ModelServer({
      name: 'iris',
      featureNames: FEATURES,
      versions: [
        { version: 'v1', model, labels: LOWER },
        { version: 'v2', model, labels: OTHER },
      ],
      defaultVersion: 'v1',
      rollouts,
    });
    server.checkGates();
    const auth = new AuthStore(harness.redis, { namespace, scryptCost: { N: 1024, r: 8, p: 1 } });
    const app = createServingApp({ models: new Map([['iris', server]]), auth });
    const token = (await auth.createToken('batch consumer', 'viewer', { models: ['iris'] })).token;
    let requests = 0;
    const fetchApp = async (url: string, init: RequestInit) => {
      requests++;
      return app.request(url, init);
    };
    const client = new PredictionClient(harness.redis, {
      model: 'iris',
      namespace,
      miss: {
        onMiss: 'live',
        model: servedModelScorer({
          url: 'http://serve.test',
          model: 'iris',
          token,
          featureNames: FEATURES,
          fetch: fetchApp,
        }),
      },
    });
    const queries = Array.from({ length: 40 }, (_, i) => ({
      features: [5 + i / 10, 3.1, 1.4 + (i % 3) * 2, 0.2 + (i % 3)],
      key: `entity-${i}`,
    }));
    const results = await client.lookupMany(queries);
    expect(requests).toBe(1);
    for (const result of results) {
      expect(result.status).toBe('live');
      // The server routed each row by its key exactly as the client did: its answer's spelling says which.
      const labels = 'arm' in result && result.arm === 'candidate' ? OTHER : LOWER;
      expect(labels).toContain((result as { value: string }).value);
    }
    expect(new Set(results.map((result) => ('arm' in result ? result.arm : undefined))).size).toBe(2);
    const again = await client.lookupMany(queries);
    expect(again.every((result) => result.status === 'hit')).toBe(true);
    expect(requests).toBe(1);
  });

  it('fails with the status when the server refuses the token', async () => {
    const namespace = harness.namespace('served-refused');
    const rollouts = new RolloutStore(harness.redis, { model: 'iris', namespace });
    const model = XgboostModel.fromJsonText(modelText);
    const server = new ModelServer({
      name: 'iris',
      featureNames: FEATURES,
      versions: [{ version: 'v1', model, labels: LOWER }],
      defaultVersion: 'v1',
      rollouts,
    });
    const auth = new AuthStore(harness.redis, { namespace, scryptCost: { N: 1024, r: 8, p: 1 } });
    const app = createServingApp({ models: new Map([['iris', server]]), auth });
    const scorer = servedModelScorer({
      url: 'http://serve.test/',
      model: 'iris',
      token: 'bt_not-a-token',
      featureNames: FEATURES,
      fetch: async (url, init) => app.request(url, init),
    });
    await expect(scorer.predictLabel([5.1, 3.5, 1.4, 0.2])).rejects.toMatchObject({
      code: 'LIVE_SCORER_FAILED',
      message: expect.stringContaining('401'),
    });
  });
});
