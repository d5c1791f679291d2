// Issue #10, point 9: an empty or much smaller batch never silently replaces good predictions,
// rollback never lands on a version known to be bad, and a plain-layout lookup with the wrong
// number of features fails clearly instead of missing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOperatorRegistry, type TaskContext } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import {
  ingestPredictions,
  ingestSafetyVerdict,
  MlTasksError,
  PredictionClient,
  PredictionSets,
  PredictionWriter,
  pythonTextKey,
  registerMlOperators,
  rollback,
} from '../../src/index.js';
import type { ModelPayload, PredictionsPayload, TablePayload } from '../../src/internals.js';
import { exampleDataDir } from '../support/golden.js';

const LABELS = ['setosa', 'versicolor', 'virginica'];
const harness = useRedisServer();
const registry = registerMlOperators(createOperatorRegistry());

function context(taskId: string, inputs: Record<string, unknown>): TaskContext {
  return {
    dagId: 'iris_batch',
    runId: 'manual__2024-05-02T00:00:00Z',
    taskId,
    mapIndex: -1,
    tryNumber: 1,
    logicalDateMs: 0,
    dagFile: join(exampleDataDir, '..', 'dag.yaml'),
    params: {},
    inputs,
    item: undefined,
    signal: new AbortController().signal,
    log: () => {},
    progress: () => {},
  };
}

async function run<T>(name: string, ctx: TaskContext, args: Record<string, unknown>): Promise<T> {
  const operator = registry.get(name);
  if (!operator) throw new Error(`no operator ${name}`);
  return (await operator.run(ctx, operator.args ? operator.args.parse(args) : args)) as T;
}

function rowsOf(count: number, salt = ''): { keys: string[]; labels: string[] } {
  const keys = Array.from({ length: count }, (_, i) => `k${salt}${i}`);
  return { keys, labels: keys.map((_, i) => LABELS[i % 3] as string) };
}

async function refusal(promise: Promise<unknown>): Promise<MlTasksError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MlTasksError);
  return error as MlTasksError;
}

describe('the ingest safety gate (pure)', () => {
  it('refuses 0 rows, refuses a shrink below the share, and records a forced verdict', () => {
    expect(() => ingestSafetyVerdict({ model: 'iris', rows: 0 })).toThrow(/0 rows/);
    expect(() => ingestSafetyVerdict({ model: 'iris', rows: 499, previousVersion: 'v1', previousRows: 1000 })).toThrow(
      /499 rows, below 50 % of the 1000 rows of current version v1/,
    );
    expect(ingestSafetyVerdict({ model: 'iris', rows: 500, previousVersion: 'v1', previousRows: 1000 })).toMatchObject({
      verdict: 'passed',
      minKeepShare: 0.5,
    });
    expect(
      ingestSafetyVerdict({ model: 'iris', rows: 100, previousVersion: 'v1', previousRows: 1000, minKeepShare: 0.1 }),
    ).toMatchObject({ verdict: 'passed' });
    expect(ingestSafetyVerdict({ model: 'iris', rows: 0, force: true })).toMatchObject({
      verdict: 'forced',
      reason: 'the batch has 0 rows',
    });
    expect(() => ingestSafetyVerdict({ model: 'iris', rows: 5, minKeepShare: 1.5 })).toThrow(/minKeepShare/);
  });
});

describe('versioned ingest behind the safety gate', () => {
  it('refuses a header-only batch (0 rows): current and every lookup stay on the good version', async () => {
    const namespace = harness.namespace();
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v1', ...rowsOf(300) });
    const error = await refusal(
      ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v2', keys: [], labels: [] }),
    );
    expect(error).toMatchObject({ code: 'INGEST_REFUSED', retryable: false });
    expect(error.message).toMatch(/0 rows.*force: true/);
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    expect(await sets.current()).toBe('v1');
    expect(await sets.meta('v2')).toBeUndefined();
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:v:v1:k0`)).toBe('setosa');
  });

  it('refuses a batch below minKeepShare of the current version, accepts a lower share or force', async () => {
    const namespace = harness.namespace();
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v1', ...rowsOf(1000) });
    const error = await refusal(
      ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v2', ...rowsOf(400) }),
    );
    expect(error.code).toBe('INGEST_REFUSED');
    expect(error.details).toMatchObject({ rows: 400, previousRows: 1000, previousVersion: 'v1', minKeepShare: 0.5 });
    const lowered = await ingestPredictions(harness.redis, {
      model: 'iris',
      namespace,
      version: 'v2',
      minKeepShare: 0.3,
      ...rowsOf(400),
    });
    expect(lowered.gate).toMatchObject({ verdict: 'passed', previousRows: 1000, minKeepShare: 0.3 });
    const forced = await ingestPredictions(harness.redis, {
      model: 'iris',
      namespace,
      version: 'v3',
      force: true,
      ...rowsOf(10),
    });
    expect(forced.gate).toMatchObject({ verdict: 'forced', rows: 10, previousVersion: 'v2', previousRows: 400 });
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    expect(await sets.current()).toBe('v3');
    expect((await sets.meta('v3'))?.gate).toMatchObject({ verdict: 'forced' });
  });

  it('checks a streaming writer at commit and drops the refused version’s keys', async () => {
    const namespace = harness.namespace();
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v1', ...rowsOf(100) });
    const writer = await PredictionWriter.open(harness.redis, { model: 'iris', namespace, version: 'v2' });
    const small = rowsOf(20, 'b');
    await writer.write(small.keys, small.labels);
    expect((await refusal(writer.commit())).code).toBe('INGEST_REFUSED');
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    expect(await sets.current()).toBe('v1');
    expect(await harness.redis.exists(`batuta:${namespace}:pred:iris:v:v2:kb0`)).toBe(0);
    expect((await sets.versions()).map((info) => info.version)).toEqual(['v1']);
  });

  it('a header-only CSV through load → predict → ml.ingestRedis is refused unless `force: true`', async () => {
    const namespace = harness.namespace();
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'good', ...rowsOf(50) });
    const dir = mkdtempSync(join(tmpdir(), 'batuta-safety-'));
    writeFileSync(join(dir, 'empty.csv'), 'sepal_length,sepal_width,petal_length,petal_width\n');
    const data = await run<TablePayload>('ml.loadCsv', context('load_data', {}), {
      url: `file:${join(dir, 'empty.csv')}`,
      header: true,
    });
    expect(data.rows).toBe(0);
    const model = await run<ModelPayload>('ml.loadModel', context('load_model', {}), {
      url: `file:${exampleDataDir}model.json`,
    });
    const predictions = await run<PredictionsPayload>(
      'ml.batchPredict',
      context('predict', { load_data: data, load_model: model }),
      { classNames: LABELS },
    );
    const ingest = context('ingest', { predict: predictions });
    const args = { model: 'iris', namespace, redisUrl: harness.url };
    await expect(run('ml.ingestRedis', ingest, args)).rejects.toMatchObject({ code: 'INGEST_REFUSED' });
    expect(await new PredictionSets(harness.redis, { model: 'iris', namespace }).current()).toBe('good');
    await expect(run('ml.ingestRedis', ingest, { ...args, minKeepShare: 2 })).rejects.toThrow();
    await expect(run('ml.ingestRedis', ingest, { ...args, force: true })).resolves.toMatchObject({
      rows: 0,
      gate: { verdict: 'forced' },
    });
  });
});

describe('rollback and activate never land on a version known to be bad', () => {
  it('skips a version forced in empty and says which it skipped', async () => {
    const namespace = harness.namespace();
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v1', ...rowsOf(30) });
    await ingestPredictions(harness.redis, {
      model: 'iris',
      namespace,
      version: 'v2',
      force: true,
      keys: [],
      labels: [],
    });
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v3', ...rowsOf(30) });
    expect(await rollback(harness.redis, 'iris', { namespace })).toEqual({ from: 'v3', to: 'v1', skipped: ['v2'] });
  });

  it('marks the version a rollback leaves, so the next rollback does not return to it', async () => {
    const namespace = harness.namespace();
    for (const version of ['v1', 'v2', 'v3']) {
      await ingestPredictions(harness.redis, { model: 'iris', namespace, version, ...rowsOf(30, version) });
    }
    expect(await rollback(harness.redis, 'iris', { namespace })).toMatchObject({ from: 'v3', to: 'v2' });
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v4', ...rowsOf(30, 'v4') });
    expect(await rollback(harness.redis, 'iris', { namespace })).toEqual({ from: 'v4', to: 'v2', skipped: ['v3'] });
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    const marks = Object.fromEntries((await sets.versions()).map((info) => [info.version, info.bad]));
    expect(marks).toMatchObject({ v2: undefined, v3: expect.stringMatching(/^rolled back at /) });

    const error = await refusal(sets.activate('v3'));
    expect(error.code).toBe('VERSION_MARKED_BAD');
    expect(error.message).toMatch(/v3 is marked bad \(rolled back at .*\); activate it with force/);
    expect(await sets.current()).toBe('v2');
    expect(await sets.activate('v3', { force: true })).toEqual({ previous: 'v2', switched: true });
    expect((await sets.versions()).find((info) => info.version === 'v3')?.bad).toBeUndefined();
  });
});

describe('plain layout', () => {
  it('refuses an empty batch and records the feature count, so a wrong-arity lookup fails clearly', async () => {
    const model = `plain_${harness.namespace()}`;
    const prefix = `${model}:`;
    const error = await refusal(
      ingestPredictions(harness.redis, { model, layout: 'plain', prefix, keys: [], labels: [] }),
    );
    expect(error.code).toBe('INGEST_REFUSED');
    const row = [5.1, 3.5, 1.4, 0.2];
    await ingestPredictions(harness.redis, {
      model,
      layout: 'plain',
      prefix,
      featureCount: 4,
      keys: [pythonTextKey(row)],
      labels: ['setosa'],
    });
    const client = new PredictionClient(harness.redis, { model });
    expect(await client.lookup(row)).toMatchObject({ status: 'hit', value: 'setosa' });
    const arity = await refusal(client.lookup([5.1, 3.5, 1.4]));
    expect(arity.code).toBe('FEATURE_COUNT_MISMATCH');
    expect(arity.message).toMatch(/was ingested with 4 features; the lookup has 3/);
  });
});
