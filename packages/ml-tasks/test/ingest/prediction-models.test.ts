// Which models a namespace holds, read from their keys: a model with an ingest, one with only a rollout,
// and none of another namespace; a prediction key that happens to end in ':layout' is not a model.
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import { ingestPredictions, listPredictionModels, RolloutStore } from '../../src/index.js';

const harness = useRedisServer();

describe('listPredictionModels', () => {
  it('lists models with predictions or a rollout, sorted, and only those of the namespace', async () => {
    const namespace = harness.namespace('models');
    await ingestPredictions(harness.redis, {
      model: 'iris',
      namespace,
      version: 'v1',
      keys: ['layout', 'rollout'],
      labels: ['setosa', 'virginica'],
      keyScheme: { scheme: 'entity-id', column: 0 },
    });
    await new RolloutStore(harness.redis, { model: 'churn', namespace }).start({
      strategy: 'ab',
      model: 'churn',
      baseline: 'a',
      candidate: 'b',
    });
    await ingestPredictions(harness.redis, {
      model: 'other',
      namespace: harness.namespace('elsewhere'),
      version: 'v1',
      keys: ['k'],
      labels: ['x'],
    });
    expect(await listPredictionModels(harness.redis, { namespace, scanCount: 2 })).toEqual(['churn', 'iris']);
  });
});
