// The prediction-set and rollout routes against a private Redis, with prediction sets written by the
// ingest and a canary started through RolloutStore — the same library calls as the CLI. Reads for a
// viewer, changes for an operator (403 otherwise), 401 without credentials, 404 for an unknown model,
// problems naming the field for bad input and state conflicts, and no body ever gets a 500.
import { ingestPredictions, RolloutStore, route } from '@batuta/ml-tasks';
import { RedisStateStore } from '@batuta/scheduler';
import { SCHEDULERS_STREAM, schedulerLease } from '@batuta/scheduler/internals';
import { useRedisServer } from '@batuta/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthStore, createWebApp } from '../src/index.js';

const harness = useRedisServer();
const cheap = { N: 1024, r: 8, p: 1 };
const clock = Date.UTC(2026, 11, 3, 12);
const MINUTE = 60_000;

let store: RedisStateStore;
let auth: AuthStore;
let namespace: string;
let app: ReturnType<typeof createWebApp>;
const tokens: Record<string, string> = {};

async function ingest(model: string, version: string, rows: number, atMs: number) {
  const keys = Array.from({ length: rows }, (_, i) => `entity-${i}`);
  await ingestPredictions(harness.redis, {
    model,
    namespace,
    version,
    keys,
    labels: keys.map((_, i) => (i % 2 === 0 ? 'setosa' : 'virginica')),
    keyScheme: { scheme: 'entity-id', column: 0 },
    classNames: ['setosa', 'versicolor', 'virginica'],
    now: () => atMs,
  });
}

const canary = {
  strategy: 'canary' as const,
  model: 'churn',
  baseline: 'a',
  candidate: 'b',
  holdout: 0.1,
  steps: [
    { share: 0.1, holdMs: 10 * MINUTE, minRequests: 5 },
    { share: 0.5, holdMs: 10 * MINUTE, minRequests: 5 },
  ],
  guards: { maxErrorRate: 0.05, maxAccuracyDrop: 0.05 },
};

beforeAll(async () => {
  namespace = harness.namespace('web-predictions');
  store = await RedisStateStore.connect({ url: harness.url, namespace });
  auth = new AuthStore(harness.redis, { namespace, scryptCost: cheap, now: () => clock });
  app = createWebApp({
    store,
    auth,
    dags: () => new Map(),
    now: () => clock,
    secureCookies: false,
    serveUi: false,
    predictions: { redis: harness.redis, namespace },
  });
  for (const role of ['viewer', 'operator'] as const)
    tokens[role] = (await auth.createToken(`${role} bot`, role)).token;
  // An operator token with the predict permission for iris only: limited to iris on these routes too.
  tokens.irisOnly = (await auth.createToken('iris bot', 'operator', { models: ['iris'] })).token;
  await ingest('iris', 'v1', 10, clock - 3 * MINUTE);
  await ingest('iris', 'v2', 12, clock - 2 * MINUTE);
  await ingest('iris', 'v3', 12, clock - MINUTE);
  await ingest('churn', 'a', 8, clock - 3 * MINUTE);
  await ingest('churn', 'b', 8, clock - 2 * MINUTE);
  const rollouts = new RolloutStore(harness.redis, { model: 'churn', namespace });
  const started = await rollouts.start(canary, { nowMs: clock - 4 * MINUTE });
  for (let i = 0; i < 400; i++) {
    const chosen = route(started, `user-${i}`);
    await rollouts.record(chosen, { error: chosen.arm === 'candidate' && i % 10 === 0 });
    if (chosen.arm !== 'holdout') await rollouts.feedback(chosen.version, i % 3 === 0 ? 0 : 1);
  }
});
afterAll(async () => {
  await store?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions themselves
type Body = Record<string, any>;
const json = async (response: Response | Promise<Response>): Promise<Body> => (await (await response).json()) as Body;
const call = (path: string, init: RequestInit & { as?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.as) headers.set('authorization', `Bearer ${tokens[init.as]}`);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return app.request(path, { ...init, headers });
};
const post = (path: string, body: unknown, as = 'operator') =>
  call(path, { as, method: 'POST', body: JSON.stringify(body) });

describe('the prediction-set routes', () => {
  it('answers 401 without credentials on every new route', async () => {
    for (const path of ['/api/models', '/api/models/iris/versions', '/api/models/churn/rollout', '/api/schedulers']) {
      const response = await call(path);
      expect(response.status, path).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
    expect((await call('/api/models/iris/rollback', { method: 'POST' })).status).toBe(401);
  });

  it('lists the models with their current version and rollout for a viewer', async () => {
    const body = await json(call('/api/models', { as: 'viewer' }));
    expect(body).toEqual({
      namespace,
      models: [
        {
          model: 'churn',
          layout: 'versioned',
          current: 'b',
          versions: 2,
          rollout: { strategy: 'canary', status: 'running' },
        },
        { model: 'iris', layout: 'versioned', current: 'v3', versions: 3, rollout: null },
      ],
    });
  });

  it('lists a model’s versions oldest first, with rows, commit times, the gate record and the current one', async () => {
    const body = await json(call('/api/models/iris/versions', { as: 'viewer' }));
    expect(body.current).toBe('v3');
    expect(body.versions.map((v: Body) => [v.version, v.rows, v.current])).toEqual([
      ['v1', 10, false],
      ['v2', 12, false],
      ['v3', 12, true],
    ]);
    expect(body.versions[2]).toMatchObject({
      status: 'complete',
      committedAt: new Date(clock - MINUTE).toISOString(),
      activatedAt: new Date(clock - MINUTE).toISOString(),
      gate: { verdict: 'passed', rows: 12, previousVersion: 'v2', previousRows: 12 },
      classNames: ['setosa', 'versicolor', 'virginica'],
    });
  });

  it('answers 404 for a model with no predictions and no rollout, and for a rollout that was never started', async () => {
    for (const path of ['/api/models/nope/versions', '/api/models/nope/rollout', '/api/models/iris/rollout']) {
      const response = await call(path, { as: 'viewer' });
      expect(response.status, path).toBe(404);
      expect((await json(response)).type).toBe('https://batuta.dev/problems/not-found');
    }
    expect((await post('/api/models/nope/activate', { version: 'v1' })).status).toBe(404);
    expect((await post('/api/models/nope/rollback', {})).status).toBe(404);
  });

  it('keeps a token limited to some models to those models: others are absent from the list and 404', async () => {
    const list = await json(call('/api/models', { as: 'irisOnly' }));
    expect(list.models.map((m: Body) => m.model)).toEqual(['iris']);
    expect((await call('/api/models/iris/versions', { as: 'irisOnly' })).status).toBe(200);
    for (const path of ['/api/models/churn/versions', '/api/models/churn/rollout']) {
      const response = await call(path, { as: 'irisOnly' });
      expect(response.status, path).toBe(404);
      // The same answer as for a model that does not exist: nothing learnt about churn.
      expect((await json(response)).detail).toBe(
        (await json(call(path.replace('churn', 'nope'), { as: 'viewer' }))).detail.replace('nope', 'churn'),
      );
    }
    for (const [path, body] of [
      ['/api/models/churn/activate', { version: 'a' }],
      ['/api/models/churn/rollback', {}],
      ['/api/models/churn/rollout/advance', { force: true }],
      ['/api/models/churn/rollout/promote', {}],
      ['/api/models/churn/rollout/abort', {}],
    ] as const) {
      expect((await post(path, body, 'irisOnly')).status, path).toBe(404);
    }
    // Nothing changed on churn.
    const rollout = await json(call('/api/models/churn/rollout', { as: 'viewer' }));
    expect(rollout.status).toBe('running');
    expect((await json(call('/api/models/churn/versions', { as: 'viewer' }))).current).toBe('b');
  });

  it('refuses a viewer’s changes with 403', async () => {
    for (const [path, body] of [
      ['/api/models/iris/activate', { version: 'v1' }],
      ['/api/models/iris/rollback', {}],
      ['/api/models/churn/rollout/advance', {}],
      ['/api/models/churn/rollout/promote', {}],
      ['/api/models/churn/rollout/abort', {}],
    ] as const) {
      const response = await post(path, body, 'viewer');
      expect(response.status, path).toBe(403);
      expect((await json(response)).detail).toMatch(/operator role/);
    }
    expect((await json(call('/api/models/iris/versions', { as: 'viewer' }))).current).toBe('v3');
  });

  it('activates a version and rolls back to the previous one, which marks the version left bad', async () => {
    expect(await json(post('/api/models/iris/activate', { version: 'v2' }))).toEqual({
      model: 'iris',
      previous: 'v3',
      current: 'v2',
    });
    expect(await json(post('/api/models/iris/rollback', {}))).toEqual({
      model: 'iris',
      from: 'v2',
      to: 'v1',
      skipped: [],
    });
    const versions = await json(call('/api/models/iris/versions', { as: 'viewer' }));
    expect(versions.current).toBe('v1');
    // The activate and the rollback ran on the app's clock; v1 became current again at the rollback.
    expect(versions.versions[0].activatedAt).toBe(new Date(clock).toISOString());
    expect(versions.versions[1]).toMatchObject({
      version: 'v2',
      bad: expect.stringMatching(/^rolled back at 2026-12-03/),
    });

    // A version marked bad needs force; nothing earlier than v1 to roll back to.
    const refused = await json(post('/api/models/iris/activate', { version: 'v2' }));
    expect(refused).toMatchObject({ status: 409, errors: [{ field: 'body.version' }] });
    expect(refused.detail).toMatch(/marked bad/);
    expect(await json(post('/api/models/iris/rollback', {}))).toMatchObject({ status: 409 });
    expect((await json(post('/api/models/iris/activate', { version: 'v2', force: true }))).current).toBe('v2');
    expect((await json(post('/api/models/iris/activate', { version: 'v9' }))).errors).toEqual([
      { field: 'body.version', message: expect.stringMatching(/v9 is not a complete version/) },
    ]);
    await post('/api/models/iris/activate', { version: 'v3' });
  });

  it('names the field at fault for bad input', async () => {
    const badVersion = await json(post('/api/models/iris/activate', { version: 'v 1' }));
    expect(badVersion).toMatchObject({ status: 400, errors: [{ field: 'json.version' }] });
    const unknown = await json(post('/api/models/iris/activate', { version: 'v1', extra: 1 }));
    expect(unknown.status).toBe(400);
    const badModel = await json(call('/api/models/a:b/versions', { as: 'viewer' }));
    expect(badModel).toMatchObject({ status: 400, errors: [{ field: 'param.model' }] });
    const badReason = await json(post('/api/models/churn/rollout/promote', { reason: '' }));
    expect(badReason).toMatchObject({ status: 400, errors: [{ field: 'json.reason' }] });
    const badForce = await json(post('/api/models/churn/rollout/advance', { force: 'yes' }));
    expect(badForce).toMatchObject({ status: 400, errors: [{ field: 'json.force' }] });
  });
});

describe('the rollout routes', () => {
  it('shows a running canary: split, step, hold left, guards with intervals, SRM and the sequential test', async () => {
    const view = await json(call('/api/models/churn/rollout', { as: 'viewer' }));
    expect(view).toMatchObject({
      model: 'churn',
      strategy: 'canary',
      status: 'running',
      step: 1,
      steps: 2,
      stepShares: [0.1, 0.5],
      baseline: 'a',
      candidates: ['b'],
      holdout: 0.1,
      split: { a: 0.9, b: 0.1 },
      serving: null,
      startedAt: new Date(clock - 4 * MINUTE).toISOString(),
      hold: { holdMs: 10 * MINUTE, remainingMs: 6 * MINUTE, minRequests: 5 },
      sampleRatio: { degreesOfFreedom: 1, mismatch: false },
      sequentialTest: { maxAccuracyDrop: 0.05, alpha: 0.05, pValue: 1, rejected: false },
    });
    const [errorGuard] = view.guards;
    expect(errorGuard).toMatchObject({ guard: 'errorRate', limit: 0.05, confidence: 0.99 });
    expect(errorGuard.lower).toBeLessThanOrEqual(errorGuard.estimate);
    expect(errorGuard.upper).toBeGreaterThanOrEqual(errorGuard.estimate);
    expect(view.hold.candidateRequests).toBe(view.figures.find((f: Body) => f.arm === 'b').requests);
    expect(view.figures.map((f: Body) => f.arm)).toEqual(['~holdout', 'a', 'b']);
    expect(view.accuracy).toMatchObject({ confidence: 0.95 });
    expect(view.log).toEqual([
      {
        id: expect.any(String),
        at: expect.any(String),
        type: 'started',
        fields: { strategy: 'canary', versions: 'a,b' },
      },
    ]);
  });

  it('checks the guards (hold), advances by hand, promotes, aborts, and then has nothing left to act on', async () => {
    const held = await json(post('/api/models/churn/rollout/advance', {}));
    expect(held).toMatchObject({ model: 'churn', action: 'hold', reason: expect.stringMatching(/step 1 holds/) });
    const forced = await json(post('/api/models/churn/rollout/advance', { force: true }));
    expect(forced).toMatchObject({ action: 'advance', rollout: { step: 2, split: { a: 0.5, b: 0.5 } } });
    expect(forced.rollout.hold.remainingMs).toBe(10 * MINUTE);

    const promoted = await json(
      post('/api/models/churn/rollout/promote', { reason: 'looks good', switchPredictions: true }),
    );
    expect(promoted).toMatchObject({
      action: 'promote',
      reason: 'looks good',
      rollout: { status: 'promoted', serving: 'b', hold: null },
    });
    expect(promoted.rollout.log.map((e: Body) => e.type)).toEqual(['promote', 'advance', 'started']);
    expect((await post('/api/models/churn/rollout/advance', {})).status).toBe(404);

    const aborted = await json(post('/api/models/churn/rollout/abort', { switchPredictions: true }));
    expect(aborted).toMatchObject({
      action: 'abort',
      reason: expect.stringMatching(/^aborted by operator bot\S* on the web$/),
      rollout: { status: 'aborted', serving: 'a' },
    });
    expect((await json(call('/api/models/churn/versions', { as: 'viewer' }))).current).toBe('a');
    const again = await post('/api/models/churn/rollout/abort', {});
    expect(again.status).toBe(404);
    expect((await json(again)).detail).toMatch(/no rollout to abort/);
  });

  it('answers any body on any new route without a 500', async () => {
    const paths = [
      '/api/models/iris/activate',
      '/api/models/iris/rollback',
      '/api/models/churn/rollout/advance',
      '/api/models/churn/rollout/promote',
      '/api/models/churn/rollout/abort',
      '/api/models/nope/rollout/promote',
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.oneof(fc.json(), fc.string()), async (path, body) => {
        const response = await call(path, { as: 'viewer', method: 'POST', body });
        expect(response.status).toBeLessThan(500);
        const asOperator = await call(path, { as: 'operator', method: 'POST', body });
        expect(asOperator.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
  });

  it('answers 503 when the server has no prediction store', async () => {
    const bare = createWebApp({ store, auth, dags: () => new Map(), serveUi: false });
    const response = await bare.request('/api/models', { headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('publishes the new routes in the OpenAPI document', async () => {
    const document = await json(call('/api/openapi.json'));
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/models',
        '/api/models/{model}/versions',
        '/api/models/{model}/activate',
        '/api/models/{model}/rollback',
        '/api/models/{model}/rollout',
        '/api/models/{model}/rollout/advance',
        '/api/models/{model}/rollout/promote',
        '/api/models/{model}/rollout/abort',
        '/api/schedulers',
      ]),
    );
    expect(document.components.schemas.Rollout).toBeDefined();
  });
});

describe('GET /api/schedulers', () => {
  it('lists the announced schedulers, alive while their lease is held with their heartbeat age, and when one stopped', async () => {
    await store.appendEvent(SCHEDULERS_STREAM, 'scheduler-started', { schedulerId: 'sched-a' }, clock - MINUTE);
    await store.appendEvent(SCHEDULERS_STREAM, 'scheduler-started', { schedulerId: 'sched-b' }, clock - MINUTE);
    await store.acquireLease(schedulerLease('sched-a'), 'sched-a', 30_000, clock - 1_000);
    await store.appendEvent(SCHEDULERS_STREAM, 'scheduler-stopped', { schedulerId: 'sched-b', runIds: [] }, clock);
    const body = await json(call('/api/schedulers', { as: 'viewer' }));
    expect(body.schedulers).toEqual([
      {
        schedulerId: 'sched-a',
        alive: true,
        heartbeatAgeMs: 1_000,
        lastHeartbeatAt: new Date(clock - 1_000).toISOString(),
        leaseExpiresAt: new Date(clock + 29_000).toISOString(),
        announcedAt: new Date(clock - MINUTE).toISOString(),
      },
      {
        schedulerId: 'sched-b',
        alive: false,
        announcedAt: new Date(clock - MINUTE).toISOString(),
        stoppedAt: new Date(clock).toISOString(),
      },
    ]);
  });
});
