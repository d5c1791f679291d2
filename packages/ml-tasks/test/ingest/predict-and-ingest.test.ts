import { readFileSync } from 'node:fs';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import {
  batchPredict,
  ingestPredictions,
  PredictionClient,
  PredictionWriter,
  predictAndIngest,
  XgboostModel,
} from '../../src/index.js';
import { RowKeyEncoder } from '../../src/internals.js';
import { exampleDataDir, goldenDir, irisRows } from '../support/golden.js';

const CLASS_NAMES = ['setosa', 'versicolor', 'virginica'];
const harness = useRedisServer();
const iris = irisRows();
const table = { data: iris.features, rows: iris.rows, width: 4 };
const seed = XgboostModel.fromJsonText(readFileSync(`${exampleDataDir}model.json`, 'utf8'));

async function contents(pattern: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await harness.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 10_000);
    cursor = next;
    if (keys.length > 0) {
      const values = await harness.redis.mget(...keys);
      keys.forEach((key, i) => {
        found.set(key.slice(pattern.length - 1), values[i] as string);
      });
    }
  } while (cursor !== '0');
  return found;
}

describe('predictAndIngest (the one-process streaming path)', () => {
  it('writes exactly what batchPredict + ingestPredictions write', async () => {
    const slow = await batchPredict(seed, table, { classNames: CLASS_NAMES });
    await ingestPredictions(harness.redis, {
      model: 'iris',
      namespace: 'slow',
      version: 'v1',
      keys: slow.keys,
      labels: slow.labels,
    });
    const result = await predictAndIngest(harness.redis, seed, table, {
      model: 'iris',
      namespace: 'fast',
      version: 'v1',
      classNames: CLASS_NAMES,
      chunkRows: 100,
      batchSize: 37,
    });
    expect(result).toMatchObject({ rows: 1050, version: 'v1', skipped: false });
    const expected = await contents('batuta:slow:pred:iris:v:v1:*');
    expect(expected.size).toBe(1033);
    expect(await contents('batuta:fast:pred:iris:v:v1:*')).toEqual(expected);
    const client = new PredictionClient(harness.redis, { model: 'iris', namespace: 'fast' });
    expect(await client.lookup([5.0, 2.9, 1.1, 0.4])).toMatchObject({ status: 'hit', value: 'setosa' });
  });

  it('writes packed keys (writePacked) exactly as string keys', async () => {
    const encoder = new RowKeyEncoder({ scheme: 'python-text' });
    const packed = encoder.encode(iris.features, 4, 0, iris.rows);
    const labels = Array.from({ length: iris.rows }, (_, i) => CLASS_NAMES[i % 3] as string);
    const writer = await PredictionWriter.open(harness.redis, {
      model: 'iris',
      namespace: 'packed',
      version: 'v1',
      batchSize: 100,
    });
    await writer.writePacked(packed, encoder.stride, iris.rows, labels);
    await writer.commit();
    await ingestPredictions(harness.redis, {
      model: 'iris',
      namespace: 'strings',
      version: 'v1',
      keys: encoder.strings(iris.features, 4, 0, iris.rows),
      labels,
    });
    expect(await contents('batuta:packed:pred:iris:v:v1:*')).toEqual(await contents('batuta:strings:pred:iris:v:v1:*'));
  });

  it('keys regressions by value and entity ids by column, in the plain layout', async () => {
    const regression = XgboostModel.fromJsonText(readFileSync(`${goldenDir}squarederror.model.json`, 'utf8'));
    const withIds = new Float64Array(iris.rows * 5);
    for (let row = 0; row < iris.rows; row++) {
      withIds[row * 5] = 1000 + row;
      withIds.set(iris.features.subarray(row * 4, row * 4 + 4), row * 5 + 1);
    }
    await predictAndIngest(
      harness.redis,
      regression,
      { data: withIds, rows: iris.rows, width: 5, columns: ['id', 'a', 'b', 'c', 'd'] },
      {
        model: 'flowers',
        namespace: 'ids',
        layout: 'plain',
        prefix: 'ids:',
        keyScheme: { scheme: 'entity-id', column: 'id' },
      },
    );
    const expected = regression.predictRow(Array.from(iris.features.subarray(0, 4)))[0] as number;
    expect(Number(await harness.redis.get('ids:1000'))).toBeCloseTo(expected, 6);
    const client = new PredictionClient(harness.redis, { model: 'flowers', namespace: 'ids' });
    expect(await client.lookup({ id: 1000 })).toMatchObject({ status: 'hit' });
  });
});
