import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateModel, MlTasksError, metricBoundsSchema, validateModel, XgboostModel } from '../../src/index.js';
import { exampleDataDir, goldenDir, irisRows } from '../support/golden.js';

const seed = XgboostModel.fromJsonText(readFileSync(`${exampleDataDir}model.json`, 'utf8'), { source: 'model.json' });
const iris = irisRows();
const trusted = { features: iris.features, labels: iris.labels, rows: iris.rows };

describe('validity gate', () => {
  it('passes the seed model at its measured accuracy (96.1%) with its figures', () => {
    const report = validateModel(seed, trusted, { accuracy: { min: 0.95 }, logLoss: { max: 0.3 } });
    expect(report.passed).toBe(true);
    expect(report.metrics.accuracy).toBeCloseTo(1009 / 1050, 10);
    expect(report.metrics.macroF1).toBeGreaterThan(0.9);
    expect(report.metrics.logLoss).toBeGreaterThan(0);
  });

  it('fails with MODEL_INVALID and the figures when a bound is missed', () => {
    let error: unknown;
    try {
      validateModel(seed, trusted, { accuracy: { min: 0.99 } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MlTasksError);
    expect((error as MlTasksError).code).toBe('MODEL_INVALID');
    expect((error as MlTasksError).message).toMatch(
      /model\.json failed the validity gate on 1050 trusted rows: accuracy 0\.9610 < min 0\.99/,
    );
    expect((error as MlTasksError).details).toMatchObject({ passed: false, metrics: { accuracy: 1009 / 1050 } });
  });

  it('catches a model that was swapped for a wrong one (labels shuffled)', () => {
    const shuffled = Int32Array.from(iris.labels, (label) => (label + 1) % 3);
    expect(evaluateModel(seed, { ...trusted, labels: shuffled }, { accuracy: { min: 0.9 } }).failures[0]).toMatch(
      /^accuracy 0\.0/,
    );
  });

  it('measures regressions with rmse, mae and r2, and says when a metric does not apply', () => {
    const regression = XgboostModel.fromJsonText(readFileSync(`${goldenDir}squarederror.model.json`, 'utf8'));
    const targets = Float64Array.from(
      { length: iris.rows },
      (_, row) =>
        1.5 * iris.features[row * 4 + 2]! - 0.8 * iris.features[row * 4 + 1]! + Math.sin(3 * iris.features[row * 4]!),
    );
    const report = evaluateModel(
      regression,
      { features: iris.features, labels: targets, rows: iris.rows },
      { rmse: { max: 1 }, accuracy: { min: 0.5 } },
    );
    expect(report.metrics.rmse).toBeLessThan(1);
    expect(report.metrics.r2).toBeGreaterThan(0.5);
    expect(report.failures).toEqual([expect.stringMatching(/accuracy does not apply to reg:squarederror/)]);
  });

  it('validates declared bounds', () => {
    expect(metricBoundsSchema.safeParse({ accuracy: {} }).success).toBe(false);
    expect(metricBoundsSchema.safeParse({ precision: { min: 1 } }).success).toBe(false);
  });
});
