// The model server over HTTP: tokens with the predict permission of one model, batch predictions
// validated by feature name (the field at fault named), a shadow's answer never returned, 503 when no
// version passes its gate, feedback recorded.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModelServer, RolloutStore, XgboostModel } from '@batuta/ml-tasks';
import { useRedisServer } from '@batuta/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthStore, createServingApp } from '../src/index.js';

const harness = useRedisServer();
const modelText = readFileSync(
  fileURLToPath(new URL('../../../examples/iris-batch/data/model.json', import.meta.url)),
  'utf8',
);
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const LABELS = ['setosa', 'versicolor', 'virginica'];
const setosa = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

let app: ReturnType<typeof createServingApp>;
let rollouts: RolloutStore;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const namespace = harness.namespace('serve');
  const auth = new AuthStore(harness.redis, { namespace, scryptCost: { N: 1024, r: 8, p: 1 } });
  rollouts = new RolloutStore(harness.redis, { model: 'iris', namespace });
  const model = XgboostModel.fromJsonText(modelText);
  const iris = new ModelServer({
    name: 'iris',
    featureNames: FEATURES,
    versions: [
      { version: 'v1', model, labels: LABELS },
      { version: 'v2', model, labels: ['x', 'y', 'z'] },
    ],
    defaultVersion: 'v1',
    rollouts,
    stateRefreshMs: 0,
  });
  iris.checkGates();
  app = createServingApp({ models: new Map([['iris', iris]]), auth });
  tokens.app = (await auth.createToken('scoring app', 'viewer', { models: ['iris'] })).token;
  tokens.other = (await auth.createToken('other app', 'viewer', { models: ['churn'] })).token;
  tokens.viewer = (await auth.createToken('dashboards', 'viewer')).token;
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions themselves
type Body = Record<string, any>;
const post = async (path: string, token: string, body: unknown) => {
  const response = await app.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens[token]}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
};

describe('the model server over HTTP', () => {
  it('answers a batch for a token with the model’s predict permission, and refuses others', async () => {
    const ok = await post('/v1/models/iris/predict', 'app', {
      instances: [{ features: setosa, key: 'a' }, { features: setosa }],
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      model: 'iris',
      predictions: [
        { version: 'v1', arm: 'baseline', prediction: 'setosa' },
        { version: 'v1', arm: 'baseline', prediction: 'setosa' },
      ],
    });
    expect((await post('/v1/models/iris/predict', 'other', { instances: [{ features: setosa }] })).status).toBe(403);
    expect((await post('/v1/models/iris/predict', 'viewer', { instances: [{ features: setosa }] })).status).toBe(403);
    expect((await post('/v1/models/nope/predict', 'app', { instances: [{ features: setosa }] })).status).toBe(404);
  });

  it('names the instance and feature at fault', async () => {
    const bad = await post('/v1/models/iris/predict', 'app', {
      instances: [
        { features: setosa },
        { features: { ...setosa, petal_colour: 2 } },
        { features: { sepal_length: 1 } },
      ],
    });
    expect(bad.status).toBe(400);
    const fields = bad.body.errors.map((e: { field: string }) => e.field);
    expect(fields).toContain('body.instances.1.features');
    expect(fields).toContain('body.instances.2.features.petal_width');
    expect((await post('/v1/models/iris/predict', 'app', { instances: [] })).status).toBe(400);
  });

  it('never returns a shadow’s answer, and records feedback', async () => {
    await rollouts.start({ strategy: 'shadow', model: 'iris', baseline: 'v1', candidate: 'v2' });
    const answer = await post('/v1/models/iris/predict', 'app', { instances: [{ features: setosa, key: 'k' }] });
    expect(answer.body.predictions).toEqual([{ version: 'v1', arm: 'baseline', prediction: 'setosa' }]);
    expect((await rollouts.figures()).arms.v2?.compared).toBe(1);
    const feedback = await post('/v1/models/iris/feedback', 'app', { version: 'v1', reward: 1 });
    expect(feedback.status).toBe(202);
    expect((await rollouts.figures()).arms.v1?.feedback).toEqual({ successes: 1, trials: 1 });
    expect((await post('/v1/models/iris/feedback', 'app', { version: 'v9', reward: 1 })).status).toBe(400);
  });
});
