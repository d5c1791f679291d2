import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCsv, loadModel, resolveS3Options } from '../../src/index.js';
import { readBytes, writeBytes } from '../../src/internals.js';
import { exampleDataDir } from '../support/golden.js';
import { S3Server } from '../support/s3-server.js';

// Against s3rver, a real S3-compatible HTTP server (signatures checked), started for this file.
describe('loading from S3 (s3rver)', () => {
  let s3: S3Server;

  beforeAll(async () => {
    s3 = await S3Server.start();
    await s3.put('batch', 'data/iris.csv', readFileSync(`${exampleDataDir}iris.csv`));
    await s3.put('batch', 'artifact/model.json', readFileSync(`${exampleDataDir}model.json`));
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it('loads the example’s CSV and model from s3:// URLs with explicit settings', async () => {
    const table = await loadCsv('s3://batch/data/iris.csv', { header: false, s3: s3.options });
    expect(table.rows).toBe(1050);
    expect(table.url).toBe('s3://batch/data/iris.csv');
    const model = await loadModel('s3://batch/artifact/model.json', { s3: s3.options });
    expect(model.objective).toBe('multi:softprob');
    expect(model.treeCount).toBe(30);
    expect(model.source).toBe('s3://batch/artifact/model.json');
  });

  it('takes the endpoint and credentials from the environment (as for MinIO)', async () => {
    const saved = { ...process.env };
    process.env.BATUTA_S3_ENDPOINT = s3.endpoint;
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    try {
      expect(resolveS3Options()).toMatchObject({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' });
      const table = await loadCsv('s3://batch/data/iris.csv', { header: false });
      expect(table.rows).toBe(1050);
    } finally {
      for (const key of ['BATUTA_S3_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('writes and reads back an object', async () => {
    await writeBytes('s3://batch/out/predictions.csv', 'key,label\n', { s3: s3.options });
    expect(new TextDecoder().decode(await readBytes('s3://batch/out/predictions.csv', { s3: s3.options }))).toBe(
      'key,label\n',
    );
  });

  it('reports a missing object as LOAD_FAILED, not retryable', async () => {
    await expect(loadCsv('s3://batch/data/nope.csv', { header: false, s3: s3.options })).rejects.toMatchObject({
      code: 'LOAD_FAILED',
      retryable: false,
      message: expect.stringContaining('s3://batch/data/nope.csv'),
    });
  });
});
