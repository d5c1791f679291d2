// Which models have predictions or a rollout in a namespace: read from the keys themselves (the layout hash
// every ingest writes, the rollout hash every rollout writes), so there is no registry to keep in step.
import type { Redis } from 'ioredis';
import { checkName, DEFAULT_NAMESPACE } from './redis-layout.js';

const MODEL = /^[A-Za-z0-9_.-]{1,128}$/;

/** The models of a namespace with an ingest (`layout`) or a rollout, sorted by name. */
export async function listPredictionModels(
  redis: Redis,
  options: { namespace?: string; scanCount?: number } = {},
): Promise<string[]> {
  const namespace = checkName('namespace', options.namespace ?? DEFAULT_NAMESPACE);
  const prefix = `batuta:${namespace}:pred:`;
  const models = new Set<string>();
  for (const suffix of [':layout', ':rollout']) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*${suffix}`, 'COUNT', options.scanCount ?? 1000);
      cursor = next;
      for (const key of keys) {
        // A prediction key may end in ':layout' too (an entity id 'layout'): only a bare model name counts.
        const model = key.slice(prefix.length, key.length - suffix.length);
        if (MODEL.test(model)) models.add(model);
      }
    } while (cursor !== '0');
  }
  return [...models].sort();
}
