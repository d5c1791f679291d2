import { defineOperator } from '@batuta/scheduler';
import { z } from 'zod';
import { type GateReport, metricBoundsSchema, validateModel } from '../gate/validity-gate.js';
import { loadCsv } from '../io/load.js';
import { modelOf, modelPayloadSchema, s3ArgsSchema } from './payloads.js';
import { resolveUrl, singleInput } from './task-inputs.js';

const trustedFile = z
  .object({
    url: z.string().min(1),
    header: z.boolean(),
    columns: z.array(z.union([z.number().int().min(0), z.string().min(1)])).optional(),
  })
  .strict();

export const validateModelArgs = z
  .object({
    model: z.string().optional().describe('The upstream task that loaded the model (default: the only ml.model input)'),
    features: trustedFile.describe('The trusted set’s features'),
    labels: trustedFile.describe('The trusted set’s labels: one column, class index or target value'),
    bounds: metricBoundsSchema.describe('e.g. { accuracy: { min: 0.95 } }'),
    s3: s3ArgsSchema.optional(),
  })
  .strict();

/** `ml.validateModel`: the validity gate; fails the task (not retryable) when a metric is out of bounds. */
export const validateModelOperator = defineOperator<z.infer<typeof validateModelArgs>>({
  name: 'ml.validateModel',
  description: 'Score a trusted labelled set and fail unless every declared metric is within bounds',
  args: validateModelArgs,
  async run(context, args): Promise<GateReport> {
    const model = await modelOf(singleInput(context, 'ml.model', modelPayloadSchema, args.model));
    const load = (file: z.infer<typeof trustedFile>) =>
      loadCsv(resolveUrl(context, file.url), {
        header: file.header,
        ...(file.columns ? { columns: file.columns } : {}),
        ...(args.s3 ? { s3: args.s3 } : {}),
      });
    const [features, labels] = await Promise.all([load(args.features), load(args.labels)]);
    const labelValues = labels.width === 1 ? labels.data : labels.data.filter((_, i) => i % labels.width === 0);
    const report = validateModel(
      model,
      {
        features: features.data,
        labels: labelValues,
        rows: features.rows,
        width: features.width,
        source: { features: args.features.url, labels: args.labels.url },
      },
      args.bounds,
    );
    context.log(
      `validity gate passed on ${report.rows} rows: ${Object.entries(report.metrics)
        .map(([name, value]) => `${name}=${(value as number).toFixed(4)}`)
        .join(', ')}`,
    );
    return report;
  },
});
