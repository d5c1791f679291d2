// The model server's fast path (serving-listener.ts) against the serving app it stands in front of: over
// real HTTP, the same request gets the same status, headers and body from both, for an answer and for
// every refusal (no token, a wrong one, no permission, a body that does not fit, an unknown model, no
// servable version); and its precompiled body check accepts exactly the bodies the app's schemas accept.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModelServer, RolloutStore, XgboostModel } from '@batuta/ml-tasks';
import { useRedisServer } from '@batuta/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthStore,
  createServingApp,
  createServingListener,
  isWellFormedPredict,
  startWebServer,
  type WebServer,
} from '../src/index.js';

const harness = useRedisServer();
const modelText = readFileSync(
  fileURLToPath(new URL('../../../examples/iris-batch/data/model.json', import.meta.url)),
  'utf8',
);
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const LABELS = ['setosa', 'versicolor', 'virginica'];
const setosa = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const MAX_BATCH = 3;

let viaApp: WebServer;
let viaListener: WebServer;
let app: ReturnType<typeof createServingApp>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const namespace = harness.namespace('listener');
  const auth = new AuthStore(harness.redis, { namespace, scryptCost: { N: 1024, r: 8, p: 1 } });
  const model = XgboostModel.fromJsonText(modelText);
  const served = (name: string, gate?: boolean) => {
    const server = new ModelServer({
      name,
      featureNames: FEATURES,
      versions: [{ version: 'v1', model, labels: LABELS }],
      defaultVersion: 'v1',
      rollouts: new RolloutStore(harness.redis, { model: name, namespace }),
      stateRefreshMs: 0,
      // An impossible bound: no version of `closed` is servable (503).
      ...(gate
        ? {
            gate: {
              trusted: {
                features: new Float64Array([5.1, 3.5, 1.4, 0.2]),
                labels: new Float64Array([0]),
                rows: 1,
                width: 4,
              },
              bounds: { accuracy: { min: 1.1 } },
            },
          }
        : {}),
    });
    server.checkGates();
    return server;
  };
  const options = {
    models: new Map([
      ['iris', served('iris')],
      ['closed', served('closed', true)],
    ]),
    auth,
    maxBatch: MAX_BATCH,
  };
  app = createServingApp(options);
  viaApp = await startWebServer(app, { port: 0 });
  viaListener = await startWebServer(createServingListener(options), { port: 0 });
  tokens.app = (await auth.createToken('scoring app', 'viewer', { models: ['iris', 'closed'] })).token;
  tokens.other = (await auth.createToken('other app', 'viewer', { models: ['churn'] })).token;
  tokens.wrong = `${tokens.app.slice(0, -4)}AAAA`;
});

afterAll(async () => {
  await viaApp?.close();
  await viaListener?.close();
});

async function call(server: WebServer, path: string, init: { token?: string; body?: string; type?: string }) {
  const headers: Record<string, string> = { 'content-type': init.type ?? 'application/json' };
  if (init.token) headers.authorization = `Bearer ${tokens[init.token] ?? init.token}`;
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers, body: init.body ?? '' });
  const seen = Object.fromEntries(
    [...response.headers].filter(([name]) => !['date', 'keep-alive', 'connection'].includes(name)),
  );
  return { status: response.status, headers: seen, body: await response.text() };
}

describe('the fast path of the model server', () => {
  const cases: Array<[string, string, { token?: string; body?: string; type?: string }]> = [
    [
      'an answer',
      '/v1/models/iris/predict',
      { token: 'app', body: JSON.stringify({ instances: [{ features: setosa, key: 'a' }] }) },
    ],
    [
      'a batch',
      '/v1/models/iris/predict',
      { token: 'app', body: JSON.stringify({ instances: [{ features: setosa }, { features: setosa }] }) },
    ],
    ['no token', '/v1/models/iris/predict', { body: JSON.stringify({ instances: [{ features: setosa }] }) }],
    [
      'a wrong secret',
      '/v1/models/iris/predict',
      { token: 'wrong', body: JSON.stringify({ instances: [{ features: setosa }] }) },
    ],
    [
      'no permission',
      '/v1/models/iris/predict',
      { token: 'other', body: JSON.stringify({ instances: [{ features: setosa }] }) },
    ],
    [
      'an unknown model',
      '/v1/models/nope/predict',
      { token: 'app', body: JSON.stringify({ instances: [{ features: setosa }] }) },
    ],
    [
      'a missing feature',
      '/v1/models/iris/predict',
      { token: 'app', body: JSON.stringify({ instances: [{ features: { sepal_length: 1 } }] }) },
    ],
    [
      'an extra field',
      '/v1/models/iris/predict',
      { token: 'app', body: JSON.stringify({ instances: [{ features: setosa }], x: 1 }) },
    ],
    [
      'too big a batch',
      '/v1/models/iris/predict',
      { token: 'app', body: JSON.stringify({ instances: Array(4).fill({ features: setosa }) }) },
    ],
    ['not JSON', '/v1/models/iris/predict', { token: 'app', body: '{"instances": [' }],
    [
      'a prototype key',
      '/v1/models/iris/predict',
      { token: 'app', body: '{"instances":[{"features":{"__proto__":{}}}]}' },
    ],
    ['not JSON by its type', '/v1/models/iris/predict', { token: 'app', body: 'x', type: 'text/plain' }],
    [
      'a prototype key among an instance’s ignored fields',
      '/v1/models/iris/predict',
      { token: 'app', body: `{"instances":[{"features":${JSON.stringify(setosa)},"__proto__":{"x":1}}]}` },
    ],
    [
      'an ignored field nested too deep',
      '/v1/models/iris/predict',
      {
        token: 'app',
        body: `{"instances":[{"features":${JSON.stringify(setosa)},"deep":${'['.repeat(70)}${']'.repeat(70)}}]}`,
      },
    ],
    [
      'a feature out of a double’s range',
      '/v1/models/iris/predict',
      {
        token: 'app',
        body: `{"instances":[{"features":${JSON.stringify({ ...setosa, sepal_length: 0 }).replace(':0', ':1e400')}}]}`,
      },
    ],
    [
      'an ignored field beside features and key',
      '/v1/models/iris/predict',
      { token: 'app', body: JSON.stringify({ instances: [{ features: setosa, key: 'k', note: 'x' }] }) },
    ],
    [
      'no servable version',
      '/v1/models/closed/predict',
      { token: 'app', body: JSON.stringify({ instances: [{ features: setosa }] }) },
    ],
  ];
  it.each(cases)('answers %s exactly as the app does', async (_name, path, init) => {
    const [fromApp, fromListener] = [await call(viaApp, path, init), await call(viaListener, path, init)];
    expect(fromListener).toEqual(fromApp);
  });

  it('sends an API’s security headers, not the ones only a browser document needs', async () => {
    const answer = await call(viaListener, '/v1/models/iris/predict', {
      token: 'app',
      body: JSON.stringify({ instances: [{ features: setosa }] }),
    });
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.headers).sort()).toEqual([
      'cache-control',
      'content-length',
      'content-security-policy',
      'content-type',
      'cross-origin-resource-policy',
      'referrer-policy',
      'strict-transport-security',
      'x-content-type-options',
      'x-frame-options',
    ]);
    expect(answer.headers).toMatchObject({
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
  });

  it('accepts exactly the bodies the app’s schemas accept', async () => {
    const value = fc.oneof(fc.double({ noDefaultInfinity: false }), fc.constantFrom(1, 0, -2.5, '1', null, true));
    const features = fc.oneof(
      fc.record(Object.fromEntries(FEATURES.map((name) => [name, value]))),
      fc.record(Object.fromEntries(FEATURES.map((name) => [name, value])), { requiredKeys: [] }),
      fc.record({ ...Object.fromEntries(FEATURES.map((name) => [name, fc.double()])), extra: fc.double() }),
      fc.constantFrom(null, [], [1, 2, 3, 4], 'x'),
    );
    const instance = fc.oneof(
      fc.record({ features }),
      fc.record({ features, key: fc.oneof(fc.string({ maxLength: 3 }), fc.constant('k'.repeat(501)), fc.integer()) }),
      fc.record({ features, other: fc.constant(1) }),
    );
    const body = fc.oneof(
      fc.record({ instances: fc.array(instance, { maxLength: MAX_BATCH + 1 }) }),
      fc.record({ instances: fc.array(instance, { minLength: 1, maxLength: 2 }), extra: fc.constant(1) }),
      fc.constantFrom(null, [], 'x', { instances: {} }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (candidate) => {
        const text = JSON.stringify(candidate);
        // Values JSON cannot carry (Infinity, NaN) are sent as null, as JSON.stringify writes them.
        const sent = JSON.parse(text);
        const answer = await app.request('/v1/models/iris/predict', {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens.app}`, 'content-type': 'application/json' },
          body: text,
        });
        expect(isWellFormedPredict(sent, FEATURES, MAX_BATCH)).toBe(answer.status === 200);
      }),
      { numRuns: 300 },
    );
  });
});
