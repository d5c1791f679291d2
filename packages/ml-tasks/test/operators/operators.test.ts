import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOperatorRegistry, DagValidationError, parseDagYaml, type TaskContext } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import {
  type GateReport,
  type IngestResult,
  ML_OPERATOR_NAMES,
  PredictionClient,
  registerMlOperators,
} from '../../src/index.js';
import type { ModelPayload, PredictionsPayload, TablePayload } from '../../src/internals.js';
import { exampleDataDir } from '../support/golden.js';

const CLASS_NAMES = ['setosa', 'versicolor', 'virginica'];
const registry = registerMlOperators(createOperatorRegistry());
const harness = useRedisServer();

interface Recorded {
  logs: string[];
  fractions: number[];
}

function context(
  taskId: string,
  inputs: Record<string, unknown>,
  extra: Partial<TaskContext> = {},
): TaskContext & Recorded {
  const logs: string[] = [];
  const fractions: number[] = [];
  return {
    dagId: 'iris_batch',
    runId: 'manual__2024-05-01T00:00:00Z',
    taskId,
    mapIndex: -1,
    tryNumber: 1,
    logicalDateMs: 0,
    dagFile: join(exampleDataDir, '..', 'dag.yaml'),
    params: {},
    inputs,
    item: undefined,
    signal: new AbortController().signal,
    log: (message) => logs.push(message),
    progress: (fraction) => fractions.push(fraction),
    logs,
    fractions,
    ...extra,
  };
}

async function run<T>(name: string, ctx: TaskContext, args: Record<string, unknown>): Promise<T> {
  const operator = registry.get(name);
  if (!operator) throw new Error(`no operator ${name}`);
  return (await operator.run(ctx, operator.args ? operator.args.parse(args) : args)) as T;
}

describe('the ML operators, task by task as a DAG runs them', () => {
  it('registers every ML operator with a zod argument schema', () => {
    expect(ML_OPERATOR_NAMES).toHaveLength(10);
    expect(ML_OPERATOR_NAMES.every((name) => registry.get(name)?.args !== undefined)).toBe(true);
  });

  it('load → validate → predict over 3 mapped partitions → ingest → lookup', async () => {
    const data = await run<TablePayload>('ml.loadCsv', context('load_data', {}), {
      url: 'data/iris.csv',
      header: false,
    });
    expect(data).toMatchObject({ kind: 'ml.table', rows: 1050, width: 4 });
    expect(data.url).toBe(join(exampleDataDir, 'iris.csv'));
    const model = await run<ModelPayload>('ml.loadModel', context('load_model', {}), { url: 'data/model.json' });
    expect(model).toMatchObject({ kind: 'ml.model', objective: 'multi:softprob', treeCount: 30, featureCount: 4 });

    const gate = await run<GateReport>('ml.validateModel', context('validate', { load_model: model }), {
      features: { url: 'data/iris.csv', header: false },
      labels: { url: 'data/iris_y.csv', header: false },
      bounds: { accuracy: { min: 0.95 } },
    });
    expect(gate.metrics.accuracy).toBeCloseTo(0.961, 3);

    const partitions: PredictionsPayload[] = [];
    for (let mapIndex = 0; mapIndex < 3; mapIndex++) {
      const ctx = context(
        'predict',
        { load_data: data, load_model: model, validate: gate },
        { mapIndex, item: { partition: mapIndex } },
      );
      partitions.push(
        await run<PredictionsPayload>('ml.batchPredict', ctx, {
          partitions: 3,
          classNames: CLASS_NAMES,
          chunkRows: 100,
        }),
      );
      expect(ctx.fractions.at(-1)).toBe(1);
      expect(ctx.fractions.length).toBe(4);
    }
    expect(partitions.map((part) => part.rows)).toEqual([350, 350, 350]);
    expect(partitions[0]?.keys?.[0]).toBe('d8c77d145fb8bc961f190b590e08a4056a61ece47304cae94d1f6d2c9e69d7da');

    const ingestContext = context('ingest', { predict: partitions });
    const result = await run<IngestResult>('ml.ingestRedis', ingestContext, {
      model: 'iris',
      namespace: 'ops',
      redisUrl: harness.url,
    });
    expect(result).toMatchObject({ version: 'manual__2024-05-01T00_00_00Z', rows: 1050, layout: 'versioned' });
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace: 'ops' });
    expect(await client.lookup([5.0, 2.9, 1.1, 0.4])).toMatchObject({ status: 'hit', value: 'setosa' });

    // A retry of the same run is idempotent.
    const retry = await run<IngestResult>('ml.ingestRedis', ingestContext, {
      model: 'iris',
      namespace: 'ops',
      redisUrl: harness.url,
    });
    expect(retry.skipped).toBe(true);

    // A rollout's candidate: committed complete under its version, `current` left where it was.
    const candidate = await run<IngestResult>('ml.ingestRedis', ingestContext, {
      model: 'iris',
      namespace: 'ops',
      redisUrl: harness.url,
      version: 'candidate',
      activate: false,
    });
    expect(candidate).toMatchObject({ version: 'candidate', activated: false, previous: result.version });
    expect(ingestContext.logs.at(-1)).toMatch(/as version candidate, not activated \(current stays manual__/);
    expect(await harness.redis.get('batuta:ops:pred:iris:current')).toBe(result.version);
    expect(await harness.redis.hget('batuta:ops:pred:iris:meta:candidate', 'status')).toBe('complete');
  });

  it('refuses to ingest when a partition is missing', async () => {
    const data = await run<TablePayload>('ml.loadCsv', context('load_data', {}), {
      url: 'data/iris.csv',
      header: false,
    });
    const model = await run<ModelPayload>('ml.loadModel', context('load_model', {}), { url: 'data/model.json' });
    const part = await run<PredictionsPayload>(
      'ml.batchPredict',
      context('predict', { load_data: data, load_model: model }, { mapIndex: 1 }),
      { partitions: 2 },
    );
    await expect(
      run('ml.ingestRedis', context('ingest', { predict: [part] }), {
        model: 'iris',
        namespace: 'ops2',
        redisUrl: harness.url,
      }),
    ).rejects.toThrow(/expected the 2 partitions 0\.\.1, got \[1\]/);
  });

  it('fails the gate with MODEL_INVALID, so the DAG never reaches ingest', async () => {
    const model = await run<ModelPayload>('ml.loadModel', context('load_model', {}), { url: 'data/model.json' });
    await expect(
      run('ml.validateModel', context('validate', { load_model: model }), {
        features: { url: 'data/iris.csv', header: false },
        labels: { url: 'data/iris_y.csv', header: false },
        bounds: { accuracy: { min: 0.99 } },
      }),
    ).rejects.toMatchObject({ code: 'MODEL_INVALID', retryable: false });
  });

  it('writes plain keys like the original, or a file instead of Redis', async () => {
    const data = await run<TablePayload>('ml.loadCsv', context('load_data', {}), {
      url: 'data/iris.csv',
      header: false,
      inline: false,
    });
    expect(data.data).toBeUndefined();
    expect(data.ref?.url).toBe(join(exampleDataDir, 'iris.csv'));
    const model = await run<ModelPayload>('ml.loadModel', context('load_model', {}), {
      url: 'data/model.json',
      inline: false,
    });
    expect(model.json).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'batuta-ops-'));
    const predictions = await run<PredictionsPayload>(
      'ml.batchPredict',
      context('predict', { load_data: data, load_model: model }),
      { classNames: CLASS_NAMES, output: `${dir}/predictions-{run}-{partition}.json` },
    );
    expect(predictions.keys).toBeUndefined();
    expect(predictions.ref).toBe(`${dir}/predictions-manual__2024-05-01T00_00_00Z-0.json`);

    await harness.redis.select(2);
    try {
      const plain = await run<IngestResult>('ml.ingestRedis', context('ingest', { predict: predictions }), {
        model: 'iris',
        layout: 'plain',
        redisUrl: `${harness.url}/2`,
      });
      expect(plain).toMatchObject({ layout: 'plain', rows: 1050 });
      expect(await harness.redis.get('d8c77d145fb8bc961f190b590e08a4056a61ece47304cae94d1f6d2c9e69d7da')).toBe(
        'setosa',
      );
      expect(await harness.redis.dbsize()).toBe(1033 + 1);
    } finally {
      await harness.redis.flushdb();
      await harness.redis.select(0);
    }

    const file = await run<{ written: string; rows: number }>(
      'ml.ingestRedis',
      context('ingest', { predict: predictions }),
      {
        model: 'iris',
        predictions: `file:${dir}/predictions.csv`,
      },
    );
    expect(file).toEqual({ written: `file:${dir}/predictions.csv`, rows: 1050 });
    const lines = readFileSync(`${dir}/predictions.csv`, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('key,label');
    expect(lines[1]).toBe('d8c77d145fb8bc961f190b590e08a4056a61ece47304cae94d1f6d2c9e69d7da,setosa');
    expect(lines.length).toBe(1051);
  });

  it('drains recorded misses into a table the same batch run scores', async () => {
    const client = new PredictionClient(harness.redis, {
      model: 'iris',
      namespace: 'drain',
      miss: { onMiss: 'record' },
    });
    await client.lookup([7.7, 2.6, 6.9, 2.3]);
    const drained = await run<TablePayload>('ml.drainMisses', context('drain_misses', {}), {
      model: 'iris',
      namespace: 'drain',
      redisUrl: harness.url,
      featureCount: 4,
    });
    expect(drained).toMatchObject({ kind: 'ml.table', rows: 1, width: 4 });
    const data = await run<TablePayload>('ml.loadCsv', context('load_data', {}), {
      url: 'data/iris.csv',
      header: false,
    });
    const model = await run<ModelPayload>('ml.loadModel', context('load_model', {}), { url: 'data/model.json' });
    const predictions = await run<PredictionsPayload>(
      'ml.batchPredict',
      context('predict', { load_data: data, drain_misses: drained, load_model: model }),
      { classNames: CLASS_NAMES },
    );
    expect(predictions.rows).toBe(1051);
    await run('ml.ingestRedis', context('ingest', { predict: predictions }), {
      model: 'iris',
      namespace: 'drain',
      redisUrl: harness.url,
    });
    expect(await client.lookup([7.7, 2.6, 6.9, 2.3])).toMatchObject({ status: 'hit', value: 'virginica' });
  });

  it('says what to do when Redis is not there', async () => {
    await expect(
      run('ml.drainMisses', context('drain', {}), { model: 'iris', redisUrl: 'redis://127.0.0.1:1' }),
    ).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
      retryable: true,
      message: expect.stringContaining('BATUTA_REDIS_URL'),
    });
  });
});

describe('YAML DAGs naming the ML operators', () => {
  const dag = (tasks: string) => `id: iris_batch\ntasks:\n${tasks}`;

  it('validates `with` at load time, pointing at the field', () => {
    const yaml = dag('  load_data:\n    operator: ml.loadCsv\n    with: { url: data/iris.csv }\n');
    let error: unknown;
    try {
      parseDagYaml(yaml, 'dag.yaml', { operators: registry });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DagValidationError);
    expect((error as Error).message).toMatch(/dag\.yaml:\d+:\d+: .*tasks\.load_data\.with\.header/);
  });

  it('loads the example’s shape: load ∥ load → validate → mapped predict → ingest', () => {
    const yaml = dag(`  load_data:
    operator: ml.loadCsv
    with: { url: "s3://batch/data/iris.csv", header: false }
  load_model:
    operator: ml.loadModel
    with: { url: "s3://batch/artifact/model.json" }
  validate:
    operator: ml.validateModel
    upstream: [load_model]
    with:
      features: { url: data/iris.csv, header: false }
      labels: { url: data/iris_y.csv, header: false }
      bounds: { accuracy: { min: 0.95 } }
  predict:
    operator: ml.batchPredict
    upstream: [load_data, load_model, validate]
    map: { over: { partition: [0, 1, 2, 3] } }
    with: { partitions: 4, classNames: [setosa, versicolor, virginica], keyScheme: { scheme: fixed-point, decimals: 1 } }
  ingest:
    operator: ml.ingestRedis
    upstream: [predict]
    with: { model: iris, keep: 5 }
`);
    const spec = parseDagYaml(yaml, 'dag.yaml', { operators: registry });
    expect(spec.tasks.map((task) => task.operator)).toEqual([
      'ml.loadCsv',
      'ml.loadModel',
      'ml.validateModel',
      'ml.batchPredict',
      'ml.ingestRedis',
    ]);
  });
});
