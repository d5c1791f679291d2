// The model validity gate: before a model's predictions are served, score a trusted labelled set
// and check the metrics against declared bounds. A model outside them fails with MODEL_INVALID and
// the figures, so the DAG stops before ingest and `current` never moves.
import { z } from 'zod';
import { MlTasksError } from '../errors.js';
import type { XgboostModel } from '../xgboost/xgboost-model.js';

const boundsSchema = z
  .object({ min: z.number().optional(), max: z.number().optional() })
  .strict()
  .refine((bounds) => bounds.min !== undefined || bounds.max !== undefined, 'give min, max or both');

/** Declared bounds per metric. Classifiers: accuracy, macroF1, logLoss; regressions: rmse, mae, r2. */
export const metricBoundsSchema = z
  .object({
    accuracy: boundsSchema.optional(),
    macroF1: boundsSchema.optional(),
    logLoss: boundsSchema.optional(),
    rmse: boundsSchema.optional(),
    mae: boundsSchema.optional(),
    r2: boundsSchema.optional(),
  })
  .strict();

/** The bounds a model must meet, e.g. `{ accuracy: { min: 0.9 } }`. */
export type MetricBounds = z.infer<typeof metricBoundsSchema>;
/** Names of the metrics the gate computes. */
export type MetricName = keyof MetricBounds;

/** A trusted labelled set: row-major features and one label (class index or target value) per row. */
export interface TrustedSet {
  features: Float64Array | Float32Array | readonly number[];
  labels: ArrayLike<number>;
  rows: number;
  /** Features per row (columns of the file); when given it must equal the model's feature count. */
  width?: number;
  /** Where the features and labels came from, named in errors. */
  source?: { features?: string; labels?: string };
}

/** What the gate measured and decided. */
export interface GateReport {
  passed: boolean;
  rows: number;
  metrics: Partial<Record<MetricName, number>>;
  /** One line per bound missed, e.g. 'accuracy 0.91 < min 0.95'. */
  failures: string[];
}

const CLASSIFIER_METRICS: readonly MetricName[] = ['accuracy', 'macroF1', 'logLoss'];
const REGRESSION_METRICS: readonly MetricName[] = ['rmse', 'mae', 'r2'];

/** Scores the trusted set and computes every metric that fits the model (classifier or regression). */
export function measureModel(model: XgboostModel, trusted: TrustedSet): Partial<Record<MetricName, number>> {
  const { rows, labels } = trusted;
  if (rows === 0) throw new MlTasksError('INVALID_ARGUMENT', 'the trusted set is empty');
  const featuresName = trusted.source?.features ?? 'the trusted features';
  // Scoring rows of the wrong width reads features out of place and blames a healthy model with
  // a low metric, so the shape is checked before a single row is scored.
  const width = trusted.width ?? trusted.features.length / rows;
  if (width !== model.featureCount || trusted.features.length !== rows * model.featureCount) {
    throw new MlTasksError(
      'FEATURE_COUNT_MISMATCH',
      `${featuresName} has ${Number.isInteger(width) ? `${width} features per row` : `${trusted.features.length} values for ${rows} rows`}; ` +
        `${model.source} expects ${model.featureCount}. Check the columns (or the header setting) of the trusted set`,
      { details: { width, expected: model.featureCount, rows } },
    );
  }
  if (labels.length !== rows) {
    throw new MlTasksError(
      'TRUSTED_SET_MISMATCH',
      `${trusted.source?.labels ?? 'the trusted labels'} has ${labels.length} labels but ${featuresName} has ${rows} rows; ` +
        'they must be the same rows, in the same order (check the header settings of both files)',
      { details: { rows, labels: labels.length } },
    );
  }
  if (!model.isClassifier) {
    const predictions = new Float64Array(rows * model.outputsPerRow);
    model.predictInto(trusted.features, rows, predictions);
    let squared = 0;
    let absolute = 0;
    let mean = 0;
    for (let row = 0; row < rows; row++) mean += labels[row] as number;
    mean /= rows;
    let total = 0;
    for (let row = 0; row < rows; row++) {
      const error = (predictions[row * model.outputsPerRow] as number) - (labels[row] as number);
      squared += error * error;
      absolute += Math.abs(error);
      total += ((labels[row] as number) - mean) ** 2;
    }
    return { rmse: Math.sqrt(squared / rows), mae: absolute / rows, r2: total === 0 ? 0 : 1 - squared / total };
  }
  const classes = new Int32Array(rows);
  model.predictClassesInto(trusted.features, rows, classes);
  const classCount = Math.max(2, model.groupCount);
  const truePositive = new Float64Array(classCount);
  const predicted = new Float64Array(classCount);
  const actual = new Float64Array(classCount);
  let correct = 0;
  for (let row = 0; row < rows; row++) {
    const label = labels[row] as number;
    const guess = classes[row] as number;
    if (!Number.isInteger(label) || label < 0 || label >= classCount) {
      throw new MlTasksError(
        'INVALID_ARGUMENT',
        `trusted label ${label} at row ${row} is not a class of this model (0..${classCount - 1})`,
      );
    }
    if (guess === label) {
      correct++;
      truePositive[label] = (truePositive[label] as number) + 1;
    }
    predicted[guess] = (predicted[guess] as number) + 1;
    actual[label] = (actual[label] as number) + 1;
  }
  let f1Sum = 0;
  let f1Classes = 0;
  for (let c = 0; c < classCount; c++) {
    if ((actual[c] as number) === 0 && (predicted[c] as number) === 0) continue;
    const denominator = (predicted[c] as number) + (actual[c] as number);
    f1Sum += denominator === 0 ? 0 : (2 * (truePositive[c] as number)) / denominator;
    f1Classes++;
  }
  const metrics: Partial<Record<MetricName, number>> = {
    accuracy: correct / rows,
    macroF1: f1Classes === 0 ? 0 : f1Sum / f1Classes,
  };
  if (model.objective !== 'multi:softmax' && model.objective !== 'binary:logitraw') {
    const probabilities = new Float64Array(rows * model.outputsPerRow);
    model.predictInto(trusted.features, rows, probabilities);
    let loss = 0;
    for (let row = 0; row < rows; row++) {
      const label = labels[row] as number;
      const p =
        model.outputsPerRow === 1
          ? label === 1
            ? (probabilities[row] as number)
            : 1 - (probabilities[row] as number)
          : (probabilities[row * model.outputsPerRow + label] as number);
      loss -= Math.log(Math.min(1 - 1e-15, Math.max(1e-15, p)));
    }
    metrics.logLoss = loss / rows;
  }
  return metrics;
}

const format = (value: number): string => (Number.isInteger(value) ? String(value) : value.toPrecision(4));

/** Measures the model and checks the bounds; never throws for a failed bound (see `validateModel`). */
export function evaluateModel(model: XgboostModel, trusted: TrustedSet, bounds: MetricBounds): GateReport {
  const parsed = metricBoundsSchema.parse(bounds);
  const metrics = measureModel(model, trusted);
  const failures: string[] = [];
  for (const [name, bound] of Object.entries(parsed) as [MetricName, { min?: number; max?: number } | undefined][]) {
    if (!bound) continue;
    const value = metrics[name];
    if (value === undefined) {
      const fits = model.isClassifier ? CLASSIFIER_METRICS : REGRESSION_METRICS;
      failures.push(`${name} does not apply to ${model.objective} (measured: ${fits.join(', ')})`);
      continue;
    }
    if (Number.isNaN(value)) failures.push(`${name} is NaN`);
    if (bound.min !== undefined && value < bound.min)
      failures.push(`${name} ${format(value)} < min ${format(bound.min)}`);
    if (bound.max !== undefined && value > bound.max)
      failures.push(`${name} ${format(value)} > max ${format(bound.max)}`);
  }
  return { passed: failures.length === 0, rows: trusted.rows, metrics, failures };
}

/** The gate: returns the report when every bound holds, else throws MODEL_INVALID carrying the figures. */
export function validateModel(model: XgboostModel, trusted: TrustedSet, bounds: MetricBounds): GateReport {
  const report = evaluateModel(model, trusted, bounds);
  if (!report.passed) {
    const measured = Object.entries(report.metrics)
      .map(([name, value]) => `${name}=${format(value as number)}`)
      .join(', ');
    throw new MlTasksError(
      'MODEL_INVALID',
      `${model.source} failed the validity gate on ${report.rows} trusted rows: ${report.failures.join('; ')} (measured ${measured})`,
      { details: { ...report } },
    );
  }
  return report;
}
