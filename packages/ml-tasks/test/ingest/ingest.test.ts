import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import {
  ingestPredictions,
  keysForRows,
  PredictionSets,
  PredictionWriter,
  pythonTextKey,
  rollback,
} from '../../src/index.js';
import { irisRows } from '../support/golden.js';

const LABELS = ['setosa', 'versicolor', 'virginica'];
const harness = useRedisServer();

async function countKeys(pattern: string): Promise<number> {
  let cursor = '0';
  let count = 0;
  do {
    const [next, keys] = await harness.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 10_000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

function synthetic(count: number, salt = ''): { keys: string[]; labels: string[] } {
  const keys = Array.from({ length: count }, (_, i) => `k${salt}${i}`);
  return { keys, labels: keys.map((_, i) => LABELS[i % 3] as string) };
}

describe('plain layout: exactly what the original wrote', () => {
  it('writes bare SHA-256 keys holding the class name, one per distinct iris row (1,033, none lost)', async () => {
    const iris = irisRows();
    const keys = keysForRows({ scheme: 'python-text' }, { data: iris.features, rows: iris.rows, width: 4 });
    const labels = Array.from(iris.labels, (label) => LABELS[label] as string);
    await harness.redis.select(1);
    try {
      const result = await ingestPredictions(harness.redis, {
        model: 'iris',
        layout: 'plain',
        keys,
        labels,
        batchSize: 100,
      });
      expect(result).toMatchObject({ layout: 'plain', rows: 1050, skipped: false });
      expect(await harness.redis.get('d8c77d145fb8bc961f190b590e08a4056a61ece47304cae94d1f6d2c9e69d7da')).toBe(
        LABELS[iris.labels[0]!],
      );
      expect(await harness.redis.get(pythonTextKey([5.7, 3.7, 1.6, -0.0]))).not.toBeNull();
      expect(await countKeys('????????????????????????????????????????????????????????????????')).toBe(1033);
      expect(await harness.redis.hgetall('batuta:default:pred:iris:layout')).toMatchObject({
        layout: 'plain',
        prefix: '',
      });
    } finally {
      await harness.redis.flushdb();
      await harness.redis.select(0);
    }
  });
});

describe('versioned layout', () => {
  it('writes each version under its own keys and switches current only at commit', async () => {
    const namespace = harness.namespace();
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    const first = synthetic(2000);
    const writer = await PredictionWriter.open(harness.redis, {
      model: 'iris',
      namespace,
      version: 'v1',
      keyScheme: { scheme: 'python-text' },
      classNames: LABELS,
    });
    await writer.write(first.keys, first.labels);
    expect(await sets.current()).toBeUndefined();
    expect((await sets.meta('v1'))?.status).toBe('writing');
    const result = await writer.commit();
    expect(result).toMatchObject({ version: 'v1', rows: 2000, evicted: [], skipped: false });
    expect(result.previous).toBeUndefined();
    expect(await sets.current()).toBe('v1');
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:v:v1:k7`)).toBe('versicolor');
    expect(await sets.meta('v1')).toMatchObject({
      status: 'complete',
      rows: 2000,
      classNames: LABELS,
      keyScheme: { scheme: 'python-text' },
    });

    const second = await ingestPredictions(harness.redis, {
      model: 'iris',
      namespace,
      version: 'v2',
      ...synthetic(1000, 'b'),
    });
    expect(second).toMatchObject({ version: 'v2', previous: 'v1' });
    expect(await sets.current()).toBe('v2');
    expect((await sets.versions()).map((v) => [v.version, v.status, v.current])).toEqual([
      ['v1', 'complete', false],
      ['v2', 'complete', true],
    ]);
  });

  it('rolls back to the previous complete version, then refuses when there is none', async () => {
    const namespace = harness.namespace();
    for (const [index, version] of ['v1', 'v2', 'v3'].entries()) {
      await ingestPredictions(harness.redis, {
        model: 'iris',
        namespace,
        version,
        now: () => 1_000 * (index + 1),
        ...synthetic(10, version),
      });
    }
    const activated = async () =>
      Object.fromEntries(
        (await new PredictionSets(harness.redis, { model: 'iris', namespace }).versions()).map((v) => [
          v.version,
          v.activatedAtMs,
        ]),
      );
    // Each commit made its version current; a rollback and an activate record when they switched.
    expect(await activated()).toEqual({ v1: 1_000, v2: 2_000, v3: 3_000 });
    expect(await new PredictionSets(harness.redis, { model: 'iris', namespace }).rollback({ nowMs: 4_000 })).toEqual({
      from: 'v3',
      to: 'v2',
      skipped: [],
    });
    expect(await activated()).toEqual({ v1: 1_000, v2: 4_000, v3: 3_000 });
    expect(await rollback(harness.redis, 'iris', { namespace })).toEqual({ from: 'v2', to: 'v1', skipped: [] });
    await expect(rollback(harness.redis, 'iris', { namespace })).rejects.toMatchObject({ code: 'NO_PREVIOUS_VERSION' });
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    // v3 was rolled back from, so it is marked bad: serving it again takes force.
    expect(await sets.activate('v3', { force: true, nowMs: 5_000 })).toEqual({ previous: 'v1', switched: true });
    expect((await activated()).v3).toBe(5_000);
    await expect(sets.activate('v9')).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
    await expect(rollback(harness.redis, 'nothing', { namespace })).rejects.toMatchObject({
      code: 'NO_CURRENT_VERSION',
    });
  });

  it('keeps the last K complete versions and deletes the keys of older ones', async () => {
    const namespace = harness.namespace();
    for (const version of ['v1', 'v2', 'v3', 'v4']) {
      const result = await ingestPredictions(harness.redis, {
        model: 'iris',
        namespace,
        version,
        keep: 2,
        ...synthetic(3000),
      });
      if (version === 'v3') expect(result.evicted).toEqual(['v1']);
      if (version === 'v4') expect(result.evicted).toEqual(['v2']);
    }
    expect(await countKeys(`batuta:${namespace}:pred:iris:v:v1:*`)).toBe(0);
    expect(await countKeys(`batuta:${namespace}:pred:iris:v:v2:*`)).toBe(0);
    expect(await countKeys(`batuta:${namespace}:pred:iris:v:v3:*`)).toBe(3000);
    expect(await countKeys(`batuta:${namespace}:pred:iris:v:v4:*`)).toBe(3000);
    expect(await harness.redis.exists(`batuta:${namespace}:pred:iris:meta:v1`)).toBe(0);
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    expect((await sets.versions()).map((v) => v.version)).toEqual(['v3', 'v4']);
  });

  it('never evicts the version it commits, even when re-committing an older one', async () => {
    const namespace = harness.namespace();
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'a', keep: 0, ...synthetic(5) });
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'b', keep: 0, ...synthetic(5) });
    const again = await ingestPredictions(harness.redis, {
      model: 'iris',
      namespace,
      version: 'a',
      keep: 1,
      ...synthetic(5),
    });
    expect(again).toMatchObject({ skipped: true, evicted: [] });
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    expect(await sets.current()).toBe('a');
    await expect(sets.deleteVersion('a')).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
  });

  it('is idempotent: re-running a complete version skips the writes and re-points current', async () => {
    const namespace = harness.namespace();
    const data = synthetic(500);
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v1', ...data });
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v2', ...data });
    const again = await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v1', ...data });
    expect(again).toMatchObject({ version: 'v1', skipped: true, previous: 'v2', rows: 500 });
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    expect(await sets.current()).toBe('v1');
    expect((await sets.versions()).map((v) => v.version)).toEqual(['v1', 'v2']);
    await expect(
      ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v1', ...synthetic(499) }),
    ).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
  });

  it('refuses to mix layouts under one model and bad names', async () => {
    const namespace = harness.namespace();
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v1', ...synthetic(3) });
    await expect(
      ingestPredictions(harness.redis, {
        model: 'iris',
        namespace,
        layout: 'plain',
        prefix: `${namespace}:`,
        ...synthetic(3),
      }),
    ).rejects.toMatchObject({ code: 'VERSION_CONFLICT' });
    await expect(ingestPredictions(harness.redis, { model: 'iris', namespace, ...synthetic(3) })).rejects.toThrow(
      /needs a version/,
    );
    await expect(
      ingestPredictions(harness.redis, { model: 'ir:is', namespace, version: 'v', ...synthetic(3) }),
    ).rejects.toThrow(/model 'ir:is' is not a valid name/);
  });
});

describe('a crash mid-ingest', () => {
  it('leaves current on the previous complete set; the re-run completes the set and switches', async () => {
    const namespace = harness.namespace();
    const rows = 400_000;
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v1', ...synthetic(100, 'old') });
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/ingest-child.ts', import.meta.url)),
        harness.url,
        namespace,
        'v2',
        String(rows),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Kill once a good share of the new version is written (poll with a deadline, no fixed sleeps).
    const deadline = Date.now() + 20_000;
    let written = 0;
    while (Date.now() < deadline) {
      written = await countKeys(`batuta:${namespace}:pred:iris:v:v2:*`);
      if (written >= 5000) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGKILL');
    await exited;
    expect(output).toContain('opened');
    expect(output).not.toContain('committed');
    const partial = await countKeys(`batuta:${namespace}:pred:iris:v:v2:*`);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(rows);

    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    expect(await sets.current()).toBe('v1');
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:v:v1:kold7`)).toBe('versicolor');
    expect((await sets.meta('v2'))?.status).toBe('writing');
    expect((await sets.versions()).map((v) => [v.version, v.status])).toEqual([
      ['v1', 'complete'],
      ['v2', 'writing'],
    ]);

    const rerun = await ingestPredictions(harness.redis, {
      model: 'iris',
      namespace,
      version: 'v2',
      ...synthetic(rows),
    });
    expect(rerun).toMatchObject({ version: 'v2', previous: 'v1', skipped: false, rows });
    expect(await sets.current()).toBe('v2');
    expect(await countKeys(`batuta:${namespace}:pred:iris:v:v2:*`)).toBe(rows);
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:v:v2:k${rows - 1}`)).toBe(LABELS[(rows - 1) % 3]);
    expect(await harness.redis.zcard(`batuta:${namespace}:pred:iris:pending`)).toBe(0);
  }, 60_000);

  it('starts a re-run of a crashed version from nothing: the set is exactly the re-run’s rows', async () => {
    const namespace = harness.namespace();
    const crashed = await PredictionWriter.open(harness.redis, { model: 'iris', namespace, version: 'v1' });
    const first = synthetic(500, 'first');
    await crashed.write(first.keys, first.labels);
    await crashed.abort();
    expect(await countKeys(`batuta:${namespace}:pred:iris:v:v1:*`)).toBe(500);
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v1', ...synthetic(200, 'second') });
    expect(await countKeys(`batuta:${namespace}:pred:iris:v:v1:*`)).toBe(200);
    expect(await countKeys(`batuta:${namespace}:pred:iris:v:v1:kfirst*`)).toBe(0);
  });

  it('prunes a version abandoned by a crash that was never re-run', async () => {
    const namespace = harness.namespace();
    await ingestPredictions(harness.redis, { model: 'iris', namespace, version: 'v1', ...synthetic(10) });
    let clock = 1_000;
    const writer = await PredictionWriter.open(harness.redis, {
      model: 'iris',
      namespace,
      version: 'v2',
      now: () => clock,
    });
    await writer.write(...(Object.values(synthetic(50)) as [string[], string[]]));
    await writer.abort();
    const sets = new PredictionSets(harness.redis, { model: 'iris', namespace });
    expect(await sets.prune({ nowMs: clock + 1000, abandonAfterMs: 60_000 })).toEqual([]);
    clock += 120_000;
    expect(await sets.prune({ nowMs: clock, abandonAfterMs: 60_000 })).toEqual(['v2']);
    expect(await countKeys(`batuta:${namespace}:pred:iris:v:v2:*`)).toBe(0);
    expect(await sets.current()).toBe('v1');
  });
});
