// Rewrites the generated part of docs/api.md from the apps' own OpenAPI documents (`npm run docs:api`).
// The documents need no store: the routes are declared when an app is made, before any request.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiReference, type OpenApiDocument } from '../src/api-reference.js';
import { createServingApp, createWebApp } from '../src/index.js';

export const API_FILE = fileURLToPath(new URL('../../../docs/api.md', import.meta.url));
export const BEGIN = '<!-- BEGIN GENERATED: npm run docs:api -->';
export const END = '<!-- END GENERATED -->';

/** The generated Markdown: the web API's routes, then the model server's. */
export async function generatedApiReference(): Promise<string> {
  const unused = {} as never;
  const web = createWebApp({ store: unused, auth: unused, dags: () => new Map(), serveUi: false });
  const serving = createServingApp({ models: new Map(), auth: unused });
  const read = async (app: { request: (path: string) => Response | Promise<Response> }, path: string) =>
    (await (await app.request(path)).json()) as OpenApiDocument;
  return [
    BEGIN,
    '',
    '## Web API (`batuta webserver`)',
    '',
    apiReference(await read(web, '/api/openapi.json')),
    '## Model server (`batuta serve`)',
    '',
    apiReference(await read(serving, '/v1/openapi.json')),
    END,
  ].join('\n');
}

/** docs/api.md with its generated part replaced. */
export async function updatedApiFile(text: string): Promise<string> {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const head = begin >= 0 ? text.slice(0, begin) : `${text.trimEnd()}\n\n`;
  const tail = end >= 0 ? text.slice(end + END.length) : '\n';
  return `${head}${await generatedApiReference()}${tail}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(API_FILE, await updatedApiFile(readFileSync(API_FILE, 'utf8')));
  console.log(`wrote ${API_FILE}`);
}
