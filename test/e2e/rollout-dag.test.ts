// Issue #13's acceptance through real processes, from the DAG on: a `batuta scheduler` and a `batuta
// worker` run the fixture DAG (test/e2e/fixtures/rollout-dag) that loads a candidate iris model, gates it
// with ml.validateModel, publishes the candidate's predictions as v2 without making them current
// (ml.ingestRedis activate: false) and then starts a canary (ml.rollout.start). The candidate is deliberately bad (versicolor and virginica swapped: it passes the lax gate but
// disagrees with the baseline on two rows in three). A `batuta serve` process routes requests by the
// canary's split (the share checked against the binomial, and every key against `route()`); a batch
// lookup through PredictionClient during the canary is routed by the same split; then the guard DAG,
// unpaused, aborts the canary on its own, traffic returns to the baseline, and every request sent
// through it all got a 200 with a prediction. Last, the `live` miss policy scores an unseen input by
// asking this serve process over HTTP with a token.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ingestPredictions,
  keysForRows,
  PredictionClient,
  RolloutStore,
  route,
  servedModelScorer,
  XgboostModel,
} from '@batuta/ml-tasks';
import { useRedisServer } from '@batuta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batutaBin, type CliDaemon, startCliDaemon } from './support/cli-daemon.js';

const root = join(import.meta.dirname, '..', '..');
const exampleData = join(root, 'examples', 'iris-batch', 'data');
const fixture = join(import.meta.dirname, 'fixtures', 'rollout-dag');
const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const LABELS = ['setosa', 'versicolor', 'virginica'];
// The namespace the fixture DAGs name in their tasks' `namespace`.
const NAMESPACE = 'rollout-e2e';
const run = promisify(execFile);

const harness = useRedisServer();
const rows = readFileSync(join(exampleData, 'iris.csv'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => line.split(',').map(Number));
let dir: string;
let env: NodeJS.ProcessEnv;
const daemons: ChildProcess[] = [];
let server: CliDaemon;

async function batuta(...argv: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [batutaBin, ...argv], { env });
}

/** The flower of entity `flower-<index>`: a stride through the file (it is sorted by class). */
const flower = (index: number) => rows[(index * 37) % rows.length]!;

interface Answer {
  status: number;
  version?: string | null;
  prediction?: string | number | null;
}
/** Every answer the serve process gave during the test: each must be a 200 with a prediction. */
const answered: Answer[] = [];
let sent = 0;

/** Scores entities `from … from+count-1` in batches of ten requests in flight. */
async function traffic(token: string, from: number, count: number): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let start = from; start < from + count; start += 10) {
    const batch = Array.from({ length: Math.min(10, from + count - start) }, async (_, i) => {
      const index = start + i;
      sent++;
      const response = await fetch(`${server.url}/v1/models/iris/predict`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          instances: [
            {
              features: Object.fromEntries(FEATURES.map((name, f) => [name, flower(index)[f]!])),
              key: `flower-${index}`,
            },
          ],
        }),
      });
      const body = (await response.json()) as { predictions?: Answer[] };
      const answer: Answer = { status: response.status, ...body.predictions?.[0] };
      answered.push(answer);
      return answer;
    });
    answers.push(...(await Promise.all(batch)));
  }
  return answers;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'batuta-rollout-dag-'));
  const dags = join(dir, 'dags');
  mkdirSync(dags);
  cpSync(fixture, dags, { recursive: true });
  symlinkSync(exampleData, join(dags, 'data'));
  // The bad candidate: the baseline with its versicolor and virginica trees swapped.
  const document = JSON.parse(readFileSync(join(exampleData, 'model.json'), 'utf8'));
  const model = document.learner.gradient_booster.model;
  model.tree_info = model.tree_info.map((label: number) => (label === 0 ? 0 : 3 - label));
  writeFileSync(join(dags, 'candidate.json'), JSON.stringify(document));
  writeFileSync(
    join(dir, 'models.json'),
    JSON.stringify({
      models: {
        iris: {
          features: FEATURES,
          defaultVersion: 'v1',
          versions: {
            v1: { model: join(exampleData, 'model.json'), labels: LABELS },
            v2: { model: join(dags, 'candidate.json'), labels: LABELS },
          },
          gate: {
            features: { url: join(exampleData, 'iris.csv'), header: false },
            labels: { url: join(exampleData, 'iris_y.csv'), header: false },
            bounds: { accuracy: { min: 0.3 } },
          },
        },
      },
    }),
  );
  env = { ...process.env, BATUTA_REDIS_URL: harness.url, BATUTA_NAMESPACE: NAMESPACE, BATUTA_DAGS: dags };

  // The baseline's batch predictions (v1), as the iris_batch example publishes them.
  const baseline = XgboostModel.fromJsonText(readFileSync(join(exampleData, 'model.json'), 'utf8'));
  const data = Float64Array.from(rows.flat());
  const classes = new Int32Array(rows.length);
  baseline.predictClassesInto(data, rows.length, classes);
  await ingestPredictions(harness.redis, {
    model: 'iris',
    namespace: NAMESPACE,
    version: 'v1',
    keys: keysForRows({ scheme: 'python-text' }, { data, rows: rows.length, width: 4 }),
    labels: Array.from(classes, (c) => LABELS[c]!),
    keyScheme: { scheme: 'python-text' },
    classNames: LABELS,
    featureCount: 4,
  });

  for (const argv of [['scheduler'], ['worker', '--pool', 'default']]) {
    daemons.push(spawn(process.execPath, [batutaBin, ...argv], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
  }
  server = await startCliDaemon(
    ['serve', 'iris', '--models', join(dir, 'models.json'), '--port', '0'],
    env,
    'serve_started',
  );
  daemons.push(server.child);
}, 60_000);

afterAll(async () => {
  for (const child of daemons) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(
    daemons.map(
      (child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve))),
    ),
  );
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('a canary started by a DAG, served and looked up by its split, aborted by its guards', () => {
  it('routes online and batch traffic by one split, aborts the bad candidate, and answers every request', async () => {
    const token = (await batuta('tokens', 'create', 'e2e', '--role', 'viewer', '--model', 'iris')).stdout.trim();
    const triggered = await batuta('dags', 'trigger', 'iris_canary', '--wait');
    expect(triggered.stdout).toMatch(/success/);

    const store = new RolloutStore(harness.redis, { model: 'iris', namespace: NAMESPACE });
    const state = (await store.read())!.rollout;
    expect(state).toMatchObject({ status: 'running', stepIndex: 0, spec: { strategy: 'canary', candidate: 'v2' } });
    // The gate ran on the candidate and passed (lax), and the candidate's set is complete as v2, but not
    // current: consumers the rollout does not route still read the baseline.
    expect(await harness.redis.hget(store.keys.meta('v2'), 'status')).toBe('complete');
    expect(await harness.redis.get(store.keys.current)).toBe('v1');

    // The server rereads the rollout within a second: wait until it reports it.
    await expect
      .poll(
        async () => {
          const response = await fetch(`${server.url}/v1/models/iris`, {
            headers: { authorization: `Bearer ${token}` },
          });
          return ((await response.json()) as { rollout?: { status: string } }).rollout?.status;
        },
        { timeout: 15_000 },
      )
      .toBe('running');

    // The split: n entities, the candidate's share p = 0.3 of the first step. The assignment is a hash, so
    // the count is fixed for these keys; the bound says how far a correct router may land from n·p: 4.5
    // standard deviations of the binomial (a correct router outside it: about 1 in 150,000 key sets).
    const n = 400;
    const during = await traffic(token, 0, n);
    expect(during.every((answer) => answer.status === 200)).toBe(true);
    const onCandidate = during.filter((answer) => answer.version === 'v2').length;
    const share = state.spec.strategy === 'canary' ? state.spec.steps[0]!.share : Number.NaN;
    expect(Math.abs(onCandidate - n * share)).toBeLessThanOrEqual(4.5 * Math.sqrt(n * share * (1 - share)));
    // And every entity went where route() sends it: the server decides with the one routing function.
    during.forEach((answer, index) => {
      const chosen = route(state, `flower-${index}`);
      expect(answer.version).toBe(chosen.arm === 'holdout' ? null : chosen.version);
    });

    // A batch lookup during the canary: the same entities, routed by the same split, reading each
    // version's prediction set.
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace: NAMESPACE });
    const batch = await client.lookupMany(
      Array.from({ length: n }, (_, index) => ({ features: flower(index), key: `flower-${index}` })),
    );
    expect(batch.map((result) => ('version' in result ? result.version : undefined))).toEqual(
      during.map((answer) => answer.version),
    );
    // Both read the same model's answers: the batch value of each entity is what the server answered.
    expect(batch.map((result) => ('value' in result ? result.value : undefined))).toEqual(
      during.map((answer) => answer.prediction),
    );
    // The server's requests and the batch's lookups are both in the rollout's figures (for the SRM check);
    // the server writes its figures summed every 200 ms, so they are complete a moment after the answers.
    const counted = async () => {
      const figures = await store.figures();
      return {
        total: (figures.arms.v1?.requests ?? 0) + (figures.arms.v2?.requests ?? 0),
        v2: figures.arms.v2?.requests,
      };
    };
    await expect.poll(counted, { timeout: 20_000 }).toEqual({ total: 2 * n, v2: 2 * onCandidate });

    // The guards act now: the scheduled check aborts the canary on its disagreement rate, while traffic
    // keeps coming.
    await batuta('dags', 'unpause', 'iris_canary_guard');
    const deadline = Date.now() + 60_000;
    let next = n;
    while ((await store.read())?.rollout.status === 'running' && Date.now() < deadline) {
      await traffic(token, next, 20);
      next += 20;
    }
    const aborted = (await store.read())!.rollout;
    expect(aborted.status).toBe('aborted');
    expect(aborted.reason).toMatch(/^disagreement /);
    expect(await harness.redis.get(store.keys.current)).toBe('v1');
    await batuta('dags', 'pause', 'iris_canary_guard');

    // Traffic returns to the baseline once the server rereads the state (within its one-second refresh).
    const settle = Date.now() + 20_000;
    let after = await traffic(token, 0, 50);
    while (after.some((answer) => answer.version !== 'v1') && Date.now() < settle) after = await traffic(token, 0, 50);
    after = await traffic(token, 0, 200);
    expect(after.every((answer) => answer.status === 200 && answer.version === 'v1')).toBe(true);
    client.refresh();
    const batchAfter = await client.lookupMany(
      Array.from({ length: 200 }, (_, index) => ({ features: flower(index), key: `flower-${index}` })),
    );
    expect(batchAfter.every((result) => result.status === 'hit' && result.version === 'v1')).toBe(true);

    // The `live` miss policy asks this serve process, with the token, for inputs no batch scored; the
    // answer is cached, so the next lookup is a hit.
    const unseen = { features: [7.7, 2.6, 6.9, 2.3].map((value) => value + 0.05), key: 'flower-new' };
    const live = new PredictionClient(harness.redis, {
      model: 'iris',
      namespace: NAMESPACE,
      miss: {
        onMiss: 'live',
        model: servedModelScorer({ url: server.url, model: 'iris', token, featureNames: FEATURES }),
      },
    });
    expect(await live.lookup(unseen)).toMatchObject({ status: 'live', value: 'virginica', version: 'v1' });
    expect(await live.lookup(unseen)).toMatchObject({ status: 'hit', value: 'virginica', version: 'v1' });

    // Every request sent was answered: a 200 with a prediction, none dropped, none a 5xx.
    expect(answered).toHaveLength(sent);
    expect(answered.filter((answer) => answer.status !== 200 || answer.prediction == null)).toEqual([]);
  }, 180_000);
});
