import { defineOperator } from '@batuta/scheduler';
import { z } from 'zod';
import { loadCsv } from '../io/load.js';
import { s3ArgsSchema, type TablePayload, tablePayload } from './payloads.js';
import { resolveUrl } from './task-inputs.js';

/** Tables up to this many values travel inline by default; larger ones by reference. */
export const INLINE_MAX_VALUES = 1_000_000;

export const loadCsvArgs = z
  .object({
    url: z.string().min(1).describe('file: path/URL (relative to the DAG file) or s3://bucket/key'),
    header: z.boolean().describe('Whether the first line names the columns: required, never guessed'),
    columns: z.array(z.union([z.number().int().min(0), z.string().min(1)])).optional(),
    delimiter: z.string().length(1).optional(),
    s3: s3ArgsSchema.optional(),
    inline: z.boolean().optional().describe('Pass the values inline (default: up to 1,000,000 values) or by reference'),
  })
  .strict();

/** `ml.loadCsv`: reads a numeric CSV table (header explicit) from a file or S3. */
export const loadCsvOperator = defineOperator<z.infer<typeof loadCsvArgs>>({
  name: 'ml.loadCsv',
  description: 'Load a numeric CSV table from a file: path or an s3:// URL; header: true|false is required',
  args: loadCsvArgs,
  resources: { memoryMb: 512 },
  async run(context, args): Promise<TablePayload> {
    const url = resolveUrl(context, args.url);
    const csv = {
      header: args.header,
      ...(args.columns ? { columns: args.columns } : {}),
      ...(args.delimiter ? { delimiter: args.delimiter } : {}),
    };
    const table = await loadCsv(url, { ...csv, ...(args.s3 ? { s3: args.s3 } : {}) });
    context.log(`loaded ${table.rows} rows × ${table.width} columns from ${url}`);
    const inline = args.inline ?? table.rows * table.width <= INLINE_MAX_VALUES;
    return tablePayload(table, inline ? undefined : { url, ...csv, ...(args.s3 ? { s3: args.s3 } : {}) });
  },
});
