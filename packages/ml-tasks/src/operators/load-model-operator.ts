import { defineOperator } from '@batuta/scheduler';
import { z } from 'zod';
import { readBytes } from '../io/blob.js';
import { XgboostModel } from '../xgboost/xgboost-model.js';
import { type ModelPayload, s3ArgsSchema, sha256Of } from './payloads.js';
import { resolveUrl } from './task-inputs.js';

/** Models up to this size travel inline by default. */
export const INLINE_MAX_MODEL_BYTES = 1 << 20;

export const loadModelArgs = z
  .object({
    url: z
      .string()
      .min(1)
      .describe('file: path/URL (relative to the DAG file) or s3://bucket/key of an XGBoost JSON model'),
    s3: s3ArgsSchema.optional(),
    inline: z
      .boolean()
      .optional()
      .describe('Pass the model JSON inline (default: up to 1 MiB) or by URL pinned by SHA-256'),
  })
  .strict();

/** `ml.loadModel`: reads and checks an XGBoost JSON model. */
export const loadModelOperator = defineOperator<z.infer<typeof loadModelArgs>>({
  name: 'ml.loadModel',
  description: 'Load and check an XGBoost JSON model from a file: path or an s3:// URL',
  args: loadModelArgs,
  async run(context, args): Promise<ModelPayload> {
    const url = resolveUrl(context, args.url);
    const bytes = await readBytes(url, args.s3 ? { s3: args.s3 } : {});
    const text = new TextDecoder().decode(bytes);
    const model = XgboostModel.fromJsonText(text, { source: url });
    context.log(
      `loaded ${model.objective} model with ${model.treeCount} trees and ${model.featureCount} features from ${url}`,
    );
    const inline = args.inline ?? bytes.byteLength <= INLINE_MAX_MODEL_BYTES;
    return {
      kind: 'ml.model',
      url,
      sha256: sha256Of(bytes),
      objective: model.objective,
      featureCount: model.featureCount,
      treeCount: model.treeCount,
      outputsPerRow: model.outputsPerRow,
      ...(inline ? { json: text } : {}),
      ...(args.s3 ? { s3: args.s3 } : {}),
    };
  },
});
