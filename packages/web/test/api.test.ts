// The REST API against a private Redis through the real store: no anonymous access, tokens and roles,
// session cookies with CSRF, problem documents naming the field for every bad input (never a 500),
// trigger → a queued run with its conf checked against the params, cancel, events, pause, and the
// OpenAPI document. One test goes through a listening server with fetch, as a browser would.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDagYaml, RedisStateStore } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthStore, CSRF_HEADER, createWebApp, SESSION_COOKIE, startWebServer } from '../src/index.js';

const harness = useRedisServer();
const dag = parseDagYaml(
  `id: report
description: a small DAG
schedule: { cron: "0 * * * *" }
params:
  n: { type: integer, default: 3 }
tasks:
  a: { operator: empty }
  b: { operator: empty, upstream: [a] }
`,
  'report.yaml',
);
const cheap = { N: 1024, r: 8, p: 1 };

let store: RedisStateStore;
let auth: AuthStore;
let app: ReturnType<typeof createWebApp>;
const tokens: Record<string, string> = {};
const clock = Date.UTC(2026, 11, 3, 12);

beforeAll(async () => {
  const namespace = harness.namespace('web');
  store = await RedisStateStore.connect({ url: harness.url, namespace });
  auth = new AuthStore(harness.redis, { namespace, scryptCost: cheap, now: () => clock });
  app = createWebApp({ store, auth, dags: () => new Map([[dag.id, dag]]), now: () => clock, secureCookies: false });
  for (const role of ['viewer', 'operator', 'admin'] as const)
    tokens[role] = (await auth.createToken(`${role} bot`, role)).token;
  await auth.addUser('ana', 'correct horse battery', 'operator');
});
afterAll(async () => {
  await store?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions themselves
type Body = Record<string, any>;
const json = async (response: Response | Promise<Response>): Promise<Body> => (await (await response).json()) as Body;

const call = (path: string, init: RequestInit & { as?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.as) headers.set('authorization', `Bearer ${tokens[init.as]}`);
  if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return app.request(path, { ...init, headers });
};

describe('the REST API', () => {
  it('lets nobody in without credentials, and says how to get some', async () => {
    const response = await call('/api/dags');
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await json(response)).toMatchObject({ status: 401, type: 'https://batuta.dev/problems/unauthenticated' });
    expect((await call('/api/dags', { headers: { authorization: 'Bearer bt_nope' } })).status).toBe(401);
    expect((await call('/api/health')).status).toBe(200);
  });

  it('lists DAGs and a DAG’s detail for a viewer, with security headers', async () => {
    const list = await call('/api/dags', { as: 'viewer' });
    expect(list.status).toBe(200);
    expect(list.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(list.headers.get('x-content-type-options')).toBe('nosniff');
    const listed = await json(list);
    expect(listed).toMatchObject({ dags: [{ dagId: 'report', paused: false, taskCount: 2 }] });
    // The next fire of the hourly cron after the injected clock: the top of the following hour.
    const hour = 3_600_000;
    expect(listed.dags[0].nextFire).toBe(new Date((Math.floor(clock / hour) + 1) * hour).toISOString());
    const detail = await json(call('/api/dags/report', { as: 'viewer' }));
    expect(detail.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(['a', 'b']);
    expect((await call('/api/dags/nope', { as: 'viewer' })).status).toBe(404);
  });

  it('refuses a viewer’s trigger (403) and queues an operator’s, with the conf resolved against the params', async () => {
    const denied = await call('/api/dags/report/runs', { as: 'viewer', method: 'POST', body: '{}' });
    expect(denied.status).toBe(403);
    const created = await call('/api/dags/report/runs', {
      as: 'operator',
      method: 'POST',
      body: JSON.stringify({ conf: { n: 5 } }),
    });
    expect(created.status).toBe(201);
    const run = await json(created);
    expect(run).toMatchObject({ dagId: 'report', state: 'queued', kind: 'manual', conf: { n: 5 } });
    expect((await store.getRun(run.runId))?.state).toBe('queued');
    const detail = await json(call(`/api/runs/${encodeURIComponent(run.runId)}`, { as: 'viewer' }));
    expect(detail).toMatchObject({ runId: run.runId, tasks: [] });
    const cancelled = await call(`/api/runs/${encodeURIComponent(run.runId)}/cancel`, {
      as: 'operator',
      method: 'POST',
    });
    expect(await json(cancelled)).toEqual({ runId: run.runId, outcome: 'cancelled' });
    expect((await store.getRun(run.runId))?.state).toBe('failed');
  });

  it('names the field at fault for bad input', async () => {
    const wrongType = await json(
      call('/api/dags/report/runs', { as: 'operator', method: 'POST', body: '{"conf":{"n":"x"}}' }),
    );
    expect(wrongType).toMatchObject({ status: 400, errors: [{ field: 'body.conf' }] });
    expect(wrongType.detail).toMatch(/n/);
    const unknownField = await json(
      call('/api/dags/report/runs', { as: 'operator', method: 'POST', body: '{"cnf":{}}' }),
    );
    expect(unknownField).toMatchObject({ status: 400, errors: [{ field: 'json' }] });
    const proto = await json(
      call('/api/events/ev1', { as: 'operator', method: 'POST', body: '{"payload":{"__proto__":{"x":1}}}' }),
    );
    expect(proto).toMatchObject({ status: 400, errors: [{ field: 'body' }] });
    expect(proto.detail).toMatch(/body\.payload\.__proto__: the key '__proto__' is not allowed/);
    const conf = await json(
      call('/api/dags/report/runs', { as: 'operator', method: 'POST', body: '{"conf":{"constructor":{"a":1}}}' }),
    );
    expect(conf.detail).toMatch(/body\.conf\.constructor: the key 'constructor'/);
    const badLimit = await json(call('/api/runs?limit=0', { as: 'viewer' }));
    expect(badLimit).toMatchObject({ status: 400, errors: [{ field: 'query.limit' }] });
    const malformed = await call('/api/events/ev1', { as: 'operator', method: 'POST', body: '{"payload":' });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers any body on any route without a 500', async () => {
    const paths = [
      '/api/dags/report/runs',
      '/api/events/ev',
      '/api/dags/report',
      '/api/auth/login',
      '/api/runs/x/cancel',
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.constantFrom('POST', 'PATCH'),
        fc.oneof(fc.json(), fc.string()),
        async (path, method, body) => {
          const response = await call(path, { as: 'admin', method, body });
          expect(response.status).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('logs a user in with an HttpOnly SameSite cookie, and asks for the CSRF token on unsafe methods', async () => {
    const login = await call('/api/auth/login', {
      method: 'POST',
      body: JSON.stringify({ username: 'ana', password: 'correct horse battery' }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const { csrfToken } = await json(login);
    const session = cookie.split(';')[0]!;
    // A reloaded UI page gets its session's CSRF token back from /api/auth/me; a token has none.
    expect(await json(call('/api/auth/me', { headers: { cookie: session } }))).toMatchObject({
      name: 'ana',
      role: 'operator',
      csrfToken,
    });
    expect(await json(call('/api/auth/me', { as: 'operator' }))).not.toHaveProperty('csrfToken');
    const forged = await call('/api/dags/report', {
      method: 'PATCH',
      headers: { cookie: session },
      body: '{"paused":true}',
    });
    expect(forged.status).toBe(403);
    const paused = await call('/api/dags/report', {
      method: 'PATCH',
      headers: { cookie: session, [CSRF_HEADER]: csrfToken },
      body: '{"paused":true}',
    });
    expect(await json(paused)).toMatchObject({ paused: true });
    expect(await store.isDagPaused('report')).toBe(true);
  });

  it('refuses logins after ten failures for a user, even with the right password', async () => {
    await auth.addUser('bo', 'the right password', 'viewer');
    for (let i = 0; i < 10; i++) {
      const wrong = await call('/api/auth/login', {
        method: 'POST',
        body: JSON.stringify({ username: 'bo', password: `guess ${i}` }),
      });
      expect(wrong.status).toBe(401);
    }
    const limited = await call('/api/auth/login', {
      method: 'POST',
      body: JSON.stringify({ username: 'bo', password: 'the right password' }),
    });
    expect(limited.status).toBe(429);
  });

  it('stops accepting a revoked token', async () => {
    const { id, token } = await auth.createToken('short-lived', 'viewer');
    const ok = await call('/api/dags', { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    await auth.revokeToken(id);
    expect((await call('/api/dags', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    // `bt_` + a 12-character id + `_` + the secret (base64url: the id and secret may hold `_` themselves).
    expect(JSON.stringify(await auth.listTokens())).not.toContain(token.slice(16));
  });

  it('publishes the OpenAPI 3.1 document generated from the route schemas', async () => {
    const document = await json(call('/api/openapi.json'));
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/dags',
        '/api/dags/{dagId}',
        '/api/dags/{dagId}/runs',
        '/api/runs',
        '/api/runs/{runId}',
        '/api/events/{name}',
      ]),
    );
    expect(document.components.schemas.Problem).toBeDefined();
  });

  it('serves the UI folder it is given at / (index.html for page paths, nothing outside it), or none', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'batuta-ui-'));
    mkdirSync(join(folder, 'ui', 'assets'), { recursive: true });
    writeFileSync(join(folder, 'ui', 'index.html'), '<!doctype html><title>UI</title>');
    writeFileSync(join(folder, 'ui', 'assets', 'app-1.js'), 'export {};');
    writeFileSync(join(folder, 'secret.txt'), 'not for the web');
    const dags = () => new Map([[dag.id, dag]]);
    const withUi = createWebApp({ store, auth, dags, serveUi: join(folder, 'ui') });
    const page = await withUi.request('/dags/report');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>UI</title>');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const asset = await withUi.request('/assets/app-1.js');
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await withUi.request('/assets/missing.js')).status).toBe(404);
    expect(await (await withUi.request('/..%2Fsecret.txt')).text()).not.toContain('not for the web');
    expect(await (await withUi.request('/%2e%2e/secret.txt')).text()).not.toContain('not for the web');
    const api = await withUi.request('/api/nope', { headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toBe('application/problem+json');
    const apiOnly = createWebApp({ store, auth, dags, serveUi: false });
    const none = await apiOnly.request('/dags/report');
    expect(none.status).toBe(404);
    expect(none.headers.get('content-type')).toBe('application/problem+json');
    const unbuilt = createWebApp({ store, auth, dags, serveUi: join(folder, 'nowhere') });
    expect(await (await unbuilt.request('/')).text()).toContain('npm run build:ui');
  });

  it('serves over HTTP to a real client', async () => {
    const server = await startWebServer(app, { port: 0 });
    try {
      const response = await fetch(`${server.url}/api/dags`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
      expect(response.status).toBe(200);
      expect((await json(response)).dags[0].dagId).toBe('report');
    } finally {
      await server.close();
    }
  });
});
