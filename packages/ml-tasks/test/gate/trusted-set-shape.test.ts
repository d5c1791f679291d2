// Issue #10, point 9: a trusted set of the wrong shape is the data's fault, not the model's. The
// gate says so before scoring, instead of failing a healthy model on a meaningless accuracy.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOperatorRegistry, type TaskContext } from '@batuta/scheduler';
import { describe, expect, it } from 'vitest';
import { registerMlOperators, validateModel, XgboostModel } from '../../src/index.js';
import type { ModelPayload } from '../../src/internals.js';
import { exampleDataDir, irisRows } from '../support/golden.js';

const registry = registerMlOperators(createOperatorRegistry());
const iris = irisRows();
const dir = mkdtempSync(join(tmpdir(), 'batuta-trusted-'));
const irisLines = readFileSync(`${exampleDataDir}iris.csv`, 'utf8').trim().split('\n');
const labelLines = readFileSync(`${exampleDataDir}iris_y.csv`, 'utf8').trim().split('\n');

function context(taskId: string, inputs: Record<string, unknown>): TaskContext {
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
    log: () => {},
    progress: () => {},
  };
}

async function gate(features: Record<string, unknown>, labels: Record<string, unknown>): Promise<unknown> {
  const load = registry.get('ml.loadModel');
  const validate = registry.get('ml.validateModel');
  if (!load?.args || !validate?.args) throw new Error('the ML operators are not registered');
  const model = (await load.run(
    context('load_model', {}),
    load.args.parse({ url: 'data/model.json' }),
  )) as ModelPayload;
  const args = validate.args.parse({ features, labels, bounds: { accuracy: { min: 0.9 } } });
  return validate.run(context('validate', { load_model: model }), args);
}

describe('the validity gate checks the trusted set’s shape before scoring', () => {
  it('refuses a features file wider than the model (a label column left in) with FEATURE_COUNT_MISMATCH', async () => {
    const wide = join(dir, 'wide.csv');
    writeFileSync(wide, `${irisLines.map((line, row) => `${line},${labelLines[row]}`).join('\n')}\n`);
    await expect(
      gate({ url: `file:${wide}`, header: false }, { url: 'data/iris_y.csv', header: false }),
    ).rejects.toMatchObject({
      code: 'FEATURE_COUNT_MISMATCH',
      message: expect.stringMatching(/wide\.csv has 5 features per row; .*model\.json expects 4/),
    });
  });

  it('refuses a features file narrower than the model (columns picked wrong)', async () => {
    await expect(
      gate({ url: 'data/iris.csv', header: false, columns: [0, 1, 2] }, { url: 'data/iris_y.csv', header: false }),
    ).rejects.toMatchObject({ code: 'FEATURE_COUNT_MISMATCH' });
  });

  it('refuses labels longer than the features (today the extra labels are silently ignored)', async () => {
    const long = join(dir, 'long_y.csv');
    writeFileSync(long, `${[...labelLines, '2'].join('\n')}\n`);
    await expect(
      gate({ url: 'data/iris.csv', header: false }, { url: `file:${long}`, header: false }),
    ).rejects.toMatchObject({
      code: 'TRUSTED_SET_MISMATCH',
      message: expect.stringMatching(/long_y\.csv has 1051 labels but data\/iris\.csv has 1050 rows/),
    });
  });

  it('refuses labels shorter than the features', async () => {
    const short = join(dir, 'short_y.csv');
    writeFileSync(short, `${labelLines.slice(0, -1).join('\n')}\n`);
    await expect(
      gate({ url: 'data/iris.csv', header: false }, { url: `file:${short}`, header: false }),
    ).rejects.toMatchObject({ code: 'TRUSTED_SET_MISMATCH' });
  });

  it('checks the declared width in the library API too', () => {
    const seed = XgboostModel.fromJsonText(readFileSync(`${exampleDataDir}model.json`, 'utf8'));
    const narrow = iris.features.filter((_, index) => index % 4 !== 3);
    expect(() => validateModel(seed, { features: narrow, labels: iris.labels, rows: iris.rows, width: 3 }, {})).toThrow(
      expect.objectContaining({ code: 'FEATURE_COUNT_MISMATCH' }),
    );
  });
});
