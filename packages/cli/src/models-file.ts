// The models file of `batuta serve`: per model, its feature names, its versions (an XGBoost JSON model by
// path or URL, and class labels), the version served without a rollout, and an optional validity gate (a
// trusted set and metric bounds, as `ml.validateModel` takes them). One zod schema is the source of the
// type and of the messages, which name file:line:column.
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  loadCsv,
  loadModel,
  type MetricBounds,
  metricBoundsSchema,
  type ServedVersion,
  type TrustedSet,
} from '@batuta/ml-tasks';
import { z } from 'zod';
import { CliError } from './cli-error.js';
import { readYamlFile } from './yaml-file.js';

const name = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'letters, digits, _ . - (at most 100)');
const table = z
  .object({
    url: z.string().min(1).describe('A path (relative to the models file), file: or s3:// URL of a CSV file'),
    header: z.boolean().describe('Whether the first row names the columns'),
    columns: z.array(z.union([z.number().int().min(0), z.string().min(1)])).optional(),
  })
  .strict();

/** One model of the file. */
export const servedModelSchema = z
  .object({
    features: z.array(z.string().min(1).max(100)).min(1).describe("Feature names, in the model's column order"),
    versions: z
      .record(
        name,
        z
          .object({
            model: z.string().min(1).describe('XGBoost JSON model: a path (relative to this file), file: or s3:// URL'),
            labels: z.array(z.string().min(1)).optional().describe("Class names of a classifier's answers"),
          })
          .strict(),
      )
      .refine((versions) => Object.keys(versions).length > 0, 'name at least one version'),
    defaultVersion: name.describe('The version that answers when the model has no rollout'),
    gate: z
      .object({
        features: table.describe("The trusted set's features"),
        labels: table.describe("The trusted set's labels: one column, class index or target value"),
        bounds: metricBoundsSchema.describe('e.g. { accuracy: { min: 0.9 } }'),
      })
      .strict()
      .optional()
      .describe('The validity gate every version must pass before it serves, at start and every --gate-every'),
  })
  .strict()
  .superRefine((model, context) => {
    if (!Object.hasOwn(model.versions, model.defaultVersion)) {
      context.addIssue({
        code: 'custom',
        path: ['defaultVersion'],
        message: `'${model.defaultVersion}' is not among the versions (${Object.keys(model.versions).join(', ')})`,
      });
    }
    if (new Set(model.features).size !== model.features.length)
      context.addIssue({ code: 'custom', path: ['features'], message: 'a feature is named twice' });
  });

/** The models file. */
export const modelsFileSchema = z.object({ models: z.record(name, servedModelSchema) }).strict();

export type ModelsFile = z.infer<typeof modelsFileSchema>;
export type ServedModelConfig = z.infer<typeof servedModelSchema>;

/** What a model server needs of one model, loaded. */
export interface LoadedModel {
  name: string;
  featureNames: string[];
  versions: ServedVersion[];
  defaultVersion: string;
  gate?: { trusted: TrustedSet; bounds: MetricBounds };
}

/** Reads and checks the models file (exit 3 when missing, 1 when invalid, naming file:line:column). */
export function readModelsFile(file: string): ModelsFile {
  return readYamlFile(file, modelsFileSchema, 'the models file');
}

/** A path relative to the models file; URLs (file:, s3:, http:) as they are. */
function locate(base: string, url: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(url) || isAbsolute(url) ? url : resolve(dirname(base), url);
}

/** Loads every version's model and the gate's trusted set of one model of the file. */
export async function loadServedModel(
  file: string,
  modelName: string,
  config: ServedModelConfig,
): Promise<LoadedModel> {
  const versions = await Promise.all(
    Object.entries(config.versions).map(async ([version, entry]) => ({
      version,
      model: await loadModel(locate(file, entry.model)),
      ...(entry.labels ? { labels: entry.labels } : {}),
    })),
  );
  let gate: LoadedModel['gate'];
  if (config.gate) {
    const load = (source: z.infer<typeof table>) =>
      loadCsv(locate(file, source.url), {
        header: source.header,
        ...(source.columns ? { columns: source.columns } : {}),
      });
    const [features, labels] = await Promise.all([load(config.gate.features), load(config.gate.labels)]);
    if (labels.rows !== features.rows) {
      throw new CliError(
        'INVALID_FILE',
        `${file}: models.${modelName}.gate: ${labels.rows} labels for ${features.rows} rows of features; they must be the same rows`,
      );
    }
    const labelValues = labels.width === 1 ? labels.data : labels.data.filter((_, i) => i % labels.width === 0);
    gate = {
      trusted: {
        features: features.data,
        labels: labelValues,
        rows: features.rows,
        width: features.width,
        source: { features: features.url, labels: labels.url },
      },
      bounds: config.gate.bounds,
    };
  }
  return {
    name: modelName,
    featureNames: config.features,
    versions,
    defaultVersion: config.defaultVersion,
    ...(gate ? { gate } : {}),
  };
}
