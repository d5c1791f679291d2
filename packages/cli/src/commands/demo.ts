// `batuta demo`: the main job. Runs the iris batch DAG (examples/iris-batch) in this process, writes
// the predictions to Redis and reads one back the way a consumer would.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PredictionClient } from '@batuta/ml-tasks';
import type { OperatorRegistry } from '@batuta/scheduler';
import { RedisServer } from '@batuta/scheduler/redis-server';
import { Redis } from 'ioredis';
import { CliError } from '../cli-error.js';
import { dagsTest } from './dags-test.js';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const SAMPLE = [5.0, 2.9, 1.1, 0.4];

/**
 * Where the iris example lives: under the working directory, else in the repository this package was built
 * in, else the copy an installed package ships in `demo/` (made by its prepack step).
 */
function irisDagFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    resolve('examples/iris-batch/dag.yaml'),
    resolve(here, '../../../../examples/iris-batch/dag.yaml'),
    resolve(here, '../../demo/iris-batch/dag.yaml'),
  ];
  const found = candidates.find((file) => existsSync(file));
  if (!found)
    throw new CliError(
      'DEMO_FILES_MISSING',
      `cannot find examples/iris-batch/dag.yaml (looked in ${candidates.join(', ')}); reinstall @batuta/cli (its package ships the demo in demo/) or run the demo from a checkout`,
    );
  return found;
}

async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(resolve(dir, command)));
}

/** Runs the demo; `predictions` (file:PATH) writes a file instead of Redis. */
export async function demoCommand(options: { operators: OperatorRegistry; predictions?: string }): Promise<number> {
  const file = irisDagFile();
  if (options.predictions) {
    console.log(`demo: predictions go to ${options.predictions} (no Redis needed)`);
    return dagsTest({
      file,
      operators: options.operators,
      withOverrides: { ingest: { predictions: options.predictions } },
    });
  }
  let url = process.env.BATUTA_REDIS_URL ?? DEFAULT_REDIS_URL;
  let server: RedisServer | undefined;
  if (!(await answers(url))) {
    if (!onPath('redis-server')) {
      console.error(
        `demo: no Redis answers at ${url} and redis-server is not installed: install it (apt-get install redis-server), set BATUTA_REDIS_URL, or run 'npm run demo -- --predictions file:predictions.csv'`,
      );
      return 1;
    }
    server = await RedisServer.start();
    url = server.url;
    console.log(
      `demo: no Redis answered at ${process.env.BATUTA_REDIS_URL ?? DEFAULT_REDIS_URL}; started a private redis-server at ${url} for this run`,
    );
  }
  process.env.BATUTA_REDIS_URL = url;
  try {
    const code = await dagsTest({ file, operators: options.operators });
    if (code !== 0) return code;
    const redis = new Redis(url);
    try {
      const client = new PredictionClient(redis, { model: 'iris' });
      const result = await client.lookup(SAMPLE);
      const answer = 'value' in result ? result.value : 'missing';
      console.log(
        `\nlookup [${SAMPLE.map((v) => v.toFixed(1)).join(', ')}] → ${answer} (${result.status}; key ${result.key ?? '-'})`,
      );
      console.log(`predictions are in ${url} under batuta:default:pred:iris:… (see examples/iris-batch/README.md)`);
    } finally {
      redis.disconnect();
    }
    return 0;
  } finally {
    await server?.stop();
  }
}
