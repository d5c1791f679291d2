// docs/api.md is generated from the apps' OpenAPI documents; this fails when a route changed and the
// page was not regenerated (`npm run docs:api`), and checks the page says what the schemas say.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_FILE, generatedApiReference, updatedApiFile } from '../scripts/api-reference.js';

describe('docs/api.md', () => {
  it('is up to date with the routes', async () => {
    const text = readFileSync(API_FILE, 'utf8');
    expect(await updatedApiFile(text), 'docs/api.md is stale: run `npm run docs:api`').toBe(text);
  });

  it('names every route with its parameters, body fields and statuses', async () => {
    const reference = await generatedApiReference();
    expect(reference).toContain('### `POST /api/dags/{dagId}/runs`');
    expect(reference).toContain('### `POST /v1/models/{name}/predict`');
    // A query parameter with its bounds and default, from the zod schema.
    expect(reference).toMatch(/\| `limit`\? \| query \| integer \(≥ 1, ≤ \d+, default 25\)/);
    expect(reference).toMatch(/`403` /);
  });
});
