// Regenerates schema/dag.schema.json from the zod schema: `npx tsx packages/scheduler/scripts/write-schema.ts`.
// A test compares the committed file with a fresh one, so run this after changing dag/schema.ts.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dagJsonSchemaText } from '../src/dag/json-schema.js';

const target = fileURLToPath(new URL('../schema/dag.schema.json', import.meta.url));
await writeFile(target, dagJsonSchemaText());
console.log(`wrote ${target}`);
