// Issue #13: a candidate's prediction set is served only through its rollout. Ingested with
// `activate: false` it is complete and listed but not `current`; the rollout routes to it by version,
// promote makes it current, abort leaves (or puts) the baseline current — also over a candidate an
// old-style ingest made current. Retention never evicts a version the stored rollout can route to.
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import { ingestPredictions, PredictionClient, PredictionSets } from '../../src/index.js';
import { RolloutStore } from '../../src/rollout/rollout-store.js';
import { route } from '../../src/rollout/router.js';

const harness = useRedisServer();
const KEYS = Array.from({ length: 40 }, (_, i) => `entity-${i}`);

async function ingest(namespace: string, version: string, options: { activate?: boolean; keep?: number } = {}) {
  return ingestPredictions(harness.redis, {
    model: 'iris',
    namespace,
    version,
    keys: KEYS,
    // Each version answers its own name, so a lookup shows which set it read.
    labels: KEYS.map(() => version),
    keyScheme: { scheme: 'entity-id', column: 'id' },
    ...options,
  });
}

const canary = {
  strategy: 'canary' as const,
  model: 'iris',
  baseline: 'v1',
  candidate: 'v2',
  steps: [
    { share: 0.5, holdMs: 1_000, minRequests: 5 },
    { share: 1, holdMs: 1_000, minRequests: 5 },
  ],
};

describe("a candidate's prediction set under a rollout", () => {
  it('commits a version with activate: false complete and listed without switching current', async () => {
    const namespace = harness.namespace('inactive');
    await ingest(namespace, 'v1');
    const result = await ingest(namespace, 'v2', { activate: false });
    expect(result).toMatchObject({ version: 'v2', previous: 'v1', activated: false, evicted: [] });
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    expect(await sets.current()).toBe('v1');
    expect((await sets.versions()).map(({ version, status, current }) => ({ version, status, current }))).toEqual([
      { version: 'v1', status: 'complete', current: true },
      { version: 'v2', status: 'complete', current: false },
    ]);
    // Consumers without a rollout keep reading v1.
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace });
    expect(await client.lookup({ id: 'entity-3' })).toMatchObject({ status: 'hit', value: 'v1', version: 'v1' });
  });

  it('routes to the inactive candidate by version, and promote makes it current', async () => {
    const namespace = harness.namespace('promote');
    await ingest(namespace, 'v1');
    await ingest(namespace, 'v2', { activate: false });
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace, activatePredictionSets: true });
    const state = await store.start(canary, { nowMs: 0 });
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace });
    const results = await client.lookupMany(KEYS.map((id) => ({ id })));
    const expected = KEYS.map((key) => route(state, key));
    expect(results.map((result) => ('value' in result ? result.value : undefined))).toEqual(
      expected.map((chosen) => (chosen.arm === 'holdout' ? undefined : chosen.version)),
    );
    expect(results.some((result) => 'value' in result && result.value === 'v2')).toBe(true);
    expect(await harness.redis.get(store.keys.current)).toBe('v1');

    await store.promote(10);
    expect(await harness.redis.get(store.keys.current)).toBe('v2');
  });

  it('leaves the baseline current when a canary of an inactive candidate is aborted', async () => {
    const namespace = harness.namespace('abort-inactive');
    await ingest(namespace, 'v1');
    await ingest(namespace, 'v2', { activate: false });
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace, activatePredictionSets: true });
    await store.start(canary, { nowMs: 0 });
    await store.abort(10);
    expect(await harness.redis.get(store.keys.current)).toBe('v1');
  });

  it('puts the baseline back when a running canary whose candidate an old-style ingest made current is aborted', async () => {
    const namespace = harness.namespace('abort-active');
    await ingest(namespace, 'v1');
    await ingest(namespace, 'v2'); // activate defaults to true: v2 is current now
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace, activatePredictionSets: true });
    await store.start(canary, { nowMs: 0 });
    expect(await harness.redis.get(store.keys.current)).toBe('v2');
    await store.abort(10);
    expect(await harness.redis.get(store.keys.current)).toBe('v1');
  });

  it('does not move a current version the aborted rollout does not name, nor fail without prediction sets', async () => {
    const namespace = harness.namespace('abort-other');
    await ingest(namespace, 'v1');
    await ingest(namespace, 'v2', { activate: false });
    await ingest(namespace, 'v3'); // someone deployed v3 by hand meanwhile
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace, activatePredictionSets: true });
    await store.start(canary, { nowMs: 0 });
    await store.abort(10);
    expect(await harness.redis.get(store.keys.current)).toBe('v3');

    // A model served only by `batuta serve` (no sets at all): the abort is the rollout's alone.
    const served = new RolloutStore(harness.redis, {
      model: 'iris',
      namespace: harness.namespace('no-sets'),
      activatePredictionSets: true,
    });
    await served.start(canary, { nowMs: 0 });
    await expect(served.abort(10)).resolves.toMatchObject({ status: 'aborted' });
  });
});

describe('retention under a rollout', () => {
  it("never evicts a running rollout's baseline or candidate, nor current; evicts them once unreferenced", async () => {
    const namespace = harness.namespace('retention');
    await ingest(namespace, 'v1');
    await ingest(namespace, 'v2', { activate: false });
    const store = new RolloutStore(harness.redis, { model: 'iris', namespace, activatePredictionSets: true });
    await store.start(canary, { nowMs: 0 });
    // keep: 1 would leave only the newest: v1 (baseline and current) and v2 (candidate) stay.
    expect((await ingest(namespace, 'v3', { activate: false, keep: 1 })).evicted).toEqual([]);
    expect((await ingest(namespace, 'v4', { activate: false, keep: 1 })).evicted).toEqual(['v3']);
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    expect((await sets.versions()).map((info) => info.version)).toEqual(['v1', 'v2', 'v4']);
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace });
    const values = (await client.lookupMany(KEYS.map((id) => ({ id })))).map((result) => result.status);
    expect(values.every((status) => status === 'hit')).toBe(true);

    // Aborted: the rollout routes only to its baseline now, so the candidate may go.
    await store.abort(10);
    expect((await ingest(namespace, 'v5', { activate: false, keep: 1 })).evicted.sort()).toEqual(['v2', 'v4']);
    expect((await sets.versions()).map((info) => info.version)).toEqual(['v1', 'v5']);
    expect(await sets.current()).toBe('v1');
  });
});
