// Batch lookups through PredictionClient while the model runs a canary, against the same lookups of a
// model with no rollout (the unsplit path), same rows, same run, same Redis. The split side does what a
// routed batch must: one cached rollout read, a route per entity, the candidate's lookups also read the
// baseline's set (the disagreement guard), and every lookup counted and logged in the rollout's figures
// (HINCRBY per arm, one XADD per entity, in the batch's pipeline). Redis: BATUTA_REDIS_URL when set (its
// own namespaces, removed after), else a private redis-server.
import { ingestPredictions, keysForRows, PredictionClient, RolloutStore } from '@batuta/ml-tasks';
import { RedisServer } from '@batuta/scheduler/redis-server';
import { Redis } from 'ioredis';
import { removeKeys } from './bench-processes.js';
import { random } from './ml-bench.js';

/** The figures: lookups per second with a canary split and without, and split / unsplit. */
export interface SplitLookupFigures {
  splitOpsPerSec: number;
  unsplitOpsPerSec: number;
  ratio: number;
}

const BATCH = 1_000;
const LABELS = ['setosa', 'versicolor', 'virginica'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Measures batch lookups (1,000 per `lookupMany`) with a canary at 25 % against the unsplit client: the
 * median of several alternating rounds each; `quick` keeps it well under a minute.
 */
export async function measureSplitLookups(options: { quick?: boolean } = {}): Promise<SplitLookupFigures> {
  const quick = options.quick ?? false;
  const entities = quick ? 20_000 : 100_000;
  const rounds = quick ? 5 : 9;
  const external = process.env.BATUTA_REDIS_URL;
  const server = external ? undefined : await RedisServer.start();
  const url = external ?? server!.url;
  const redis = new Redis(url);
  const stamp = `${process.pid}-${Date.now()}`;
  const split = `bench-split-${stamp}`;
  const unsplit = `bench-unsplit-${stamp}`;
  try {
    const next = random(13);
    const data = new Float64Array(entities * 4);
    for (let i = 0; i < data.length; i++) data[i] = Math.round((1 + next() * 7) * 10) / 10;
    const keys = keysForRows({ scheme: 'python-text' }, { data, rows: entities, width: 4 });
    const labels = Array.from({ length: entities }, (_, i) => LABELS[i % 3]!);
    for (const namespace of [split, unsplit]) {
      for (const version of ['v1', 'v2']) {
        await ingestPredictions(redis, {
          model: 'iris',
          namespace,
          version,
          keys,
          labels,
          keyScheme: { scheme: 'python-text' },
          classNames: LABELS,
          featureCount: 4,
        });
      }
    }
    await new RolloutStore(redis, { model: 'iris', namespace: split }).start({
      strategy: 'canary',
      model: 'iris',
      baseline: 'v1',
      candidate: 'v2',
      steps: [
        { share: 0.25, holdMs: 3_600_000 },
        { share: 1, holdMs: 3_600_000 },
      ],
    });
    const queries = Array.from({ length: entities }, (_, i) => ({
      features: Array.from(data.subarray(i * 4, i * 4 + 4)),
      key: `entity-${i}`,
    }));
    const clients = {
      split: new PredictionClient(redis, { model: 'iris', namespace: split }),
      unsplit: new PredictionClient(redis, { model: 'iris', namespace: unsplit }),
    };
    const pass = async (client: PredictionClient): Promise<number> => {
      const started = process.hrtime.bigint();
      let hits = 0;
      for (let from = 0; from < queries.length; from += BATCH) {
        for (const result of await client.lookupMany(queries.slice(from, from + BATCH))) {
          if (result.status === 'hit') hits++;
        }
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Count the work: a pass that missed would measure the miss path, not the lookups.
      if (hits !== queries.length) throw new Error(`${hits} of ${queries.length} lookups hit`);
      return queries.length / seconds;
    };
    await pass(clients.split);
    await pass(clients.unsplit);
    const figures = { split: [] as number[], unsplit: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      // Alternate which side goes first, so a drift in the machine's load does not favour one.
      const order = round % 2 === 0 ? (['split', 'unsplit'] as const) : (['unsplit', 'split'] as const);
      for (const side of order) figures[side].push(await pass(clients[side]));
    }
    const splitOpsPerSec = Math.round(median(figures.split));
    const unsplitOpsPerSec = Math.round(median(figures.unsplit));
    return { splitOpsPerSec, unsplitOpsPerSec, ratio: Math.round((splitOpsPerSec / unsplitOpsPerSec) * 1000) / 1000 };
  } finally {
    redis.disconnect();
    if (server) await server.stop();
    else {
      await removeKeys(url, split);
      await removeKeys(url, unsplit);
    }
  }
}
