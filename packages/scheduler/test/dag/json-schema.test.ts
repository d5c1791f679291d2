import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DAG_SCHEMA_ID, dagJsonSchema, dagJsonSchemaText } from '../../src/dag/json-schema.js';

const committed = fileURLToPath(new URL('../../schema/dag.schema.json', import.meta.url));

interface SchemaNode {
  type?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  anyOf?: SchemaNode[];
  enum?: unknown[];
  pattern?: string;
  default?: unknown;
}

describe('dag.schema.json', () => {
  it('is the schema generated from the zod schema (run scripts/write-schema.ts after changing it)', () => {
    expect(readFileSync(committed, 'utf8')).toBe(dagJsonSchemaText());
  });

  it('names itself and describes the fields an editor completes', () => {
    const schema = dagJsonSchema() as unknown as SchemaNode & {
      $id: string;
      $schema: string;
      title: string;
      required: string[];
    };
    expect(schema.$id).toBe(DAG_SCHEMA_ID);
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.title).toBe('Batuta DAG file');
    expect(schema.required).toEqual(['id', 'tasks']);
    expect(schema.additionalProperties).toBe(false);
    for (const [name, field] of Object.entries(schema.properties ?? {})) {
      expect(field.description, `top-level field ${name}`).toBeTruthy();
    }
    const task = schema.properties?.tasks?.additionalProperties as SchemaNode;
    expect(Object.keys(task.properties ?? {})).toEqual(
      expect.arrayContaining([
        'operator',
        'with',
        'upstream',
        'triggerRule',
        'retry',
        'resources',
        'pool',
        'timeout',
        'map',
      ]),
    );
    for (const [name, field] of Object.entries(task.properties ?? {})) {
      expect(field.description, `task field ${name}`).toBeTruthy();
    }
    expect(task.properties?.triggerRule?.enum).toContain('none_failed_min_one_success');
    expect(task.properties?.timeout?.pattern).toBeTruthy();
    expect(schema.properties?.maxActiveRuns?.default).toBe(16);
  });
});
