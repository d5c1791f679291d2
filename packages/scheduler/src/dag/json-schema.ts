// The JSON Schema of a DAG file, generated from the zod schema (never written by hand), so editors can
// complete and check DAG files: `# yaml-language-server: $schema=<path>/dag.schema.json`.
import { z } from 'zod';
import { dagDocumentSchema } from './schema.js';

/** The `$id` of the DAG file schema. */
export const DAG_SCHEMA_ID = 'urn:batuta:schema:dag-file:v1';

/** The JSON Schema (draft-07, the dialect editors' YAML support reads best) of a DAG file as written. */
export function dagJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(dagDocumentSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' });
  const { $schema, ...rest } = generated;
  return { $schema, $id: DAG_SCHEMA_ID, ...rest };
}

/** The schema as the text of `schema/dag.schema.json` (two-space JSON and a final newline). */
export function dagJsonSchemaText(): string {
  return `${JSON.stringify(dagJsonSchema(), null, 2)}\n`;
}
