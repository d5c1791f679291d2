// Serves the prebuilt browser UI (packages/web/dist/ui, built by Vite) at `/`: files by path, index.html
// for any other page path (the UI routes in the browser), never anything outside the folder. It answers
// only what no route answers (it is the app's not-found handler), so routes added in any order win, and
// API paths keep their problem-document 404. Hashed assets are cached for a year; index.html revalidated.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';
import type { Env } from './http-common.js';
import { sendProblem } from './problem.js';

/** Where `vite build` puts the UI: `dist/ui` of this package, from `src/` (tests) and `dist/` (installed) alike. */
export const DEFAULT_UI_ROOT = fileURLToPath(new URL('../dist/ui/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

async function readIfFile(path: string): Promise<Uint8Array | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
    return await readFile(path);
  } catch {
    return undefined;
  }
}

export function installUi(app: Hono<Env>, options: { root?: string; apiPrefix: string }): void {
  const root = normalize(options.root ?? DEFAULT_UI_ROOT);
  const cache = new Map<string, Uint8Array>();
  const load = async (path: string) => {
    const hit = cache.get(path);
    if (hit) return hit;
    const bytes = await readIfFile(path);
    if (bytes) cache.set(path, bytes);
    return bytes;
  };
  const isApi = (path: string) => path === options.apiPrefix || path.startsWith(`${options.apiPrefix}/`);

  const notFound = (c: Context<Env>) => sendProblem(c, 'not-found', `no route ${c.req.method} ${c.req.path}`);
  app.notFound(async (c) => {
    const path = c.req.path;
    if ((c.req.method !== 'GET' && c.req.method !== 'HEAD') || isApi(path)) return notFound(c);
    let relative: string;
    try {
      relative = decodeURIComponent(path);
    } catch {
      return notFound(c);
    }
    const file = normalize(join(root, relative));
    const inside = file.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
    const bytes = inside && !relative.endsWith('/') ? await load(file) : undefined;
    if (bytes) {
      c.header('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
      c.header('cache-control', relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200);
    }
    // A missing asset is a 404; every other path is a page of the UI, routed in the browser.
    if (relative.startsWith('/assets/')) return notFound(c);
    const index = await load(join(root, 'index.html'));
    if (!index) {
      return c.text(
        'The Batuta UI is not built in this installation (run `npm run build:ui -w @batuta/web`); the API is at /api.',
        404,
      );
    }
    c.header('content-type', TYPES['.html']!);
    c.header('cache-control', 'no-cache');
    return c.body(index as Uint8Array<ArrayBuffer>, 200);
  });
}
