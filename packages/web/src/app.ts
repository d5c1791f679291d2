// The HTTP app: every route declared with zod (the OpenAPI 3.1 document at /api/openapi.json is generated
// from the same schemas that validate requests), authentication on every route but /api/health and the
// login, a role per route, problem documents for every error, security headers on every answer. It reads
// and writes through the StateStore port only: the scheduler daemons do the work.

import {
  BatutaError,
  checkSafeJson,
  type DagRunRecord,
  type DagSpec,
  newRunId,
  resolveParams,
  type StateStore,
} from '@batuta/scheduler';
import { CONTROL_STREAM, eventStream } from '@batuta/scheduler/internals';
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AuthStore } from './auth/auth-store.js';
import { mayOperate, mayView, operableDag, visibleDag } from './auth/dag-access.js';
import { type Principal, type Role, roleAllows } from './auth/roles.js';
import { type Env, installCommon, SESSION_COOKIE, validationHook } from './http-common.js';
import { ProblemError, sendProblem } from './problem.js';
import { registerDatasetRoutes } from './routes/dataset-routes.js';
import { registerGridRoutes } from './routes/grid-routes.js';
import { registerLiveRoutes } from './routes/live-routes.js';
import { type LogStoreLike, registerLogRoutes } from './routes/log-routes.js';
import { installMetrics, type WebMetrics } from './routes/metrics.js';
import { type PoolStatusSource, registerPoolRoutes } from './routes/pool-routes.js';
import { type PredictionSource, registerPredictionRoutes } from './routes/prediction-routes.js';
import { registerRepairRoutes } from './routes/repair-routes.js';
import { decodeRunCursor, encodeRunCursor, visibleRun } from './routes/route-helpers.js';
import { registerSchedulerRoutes } from './routes/scheduler-routes.js';
import { registerTryRoutes } from './routes/try-routes.js';
import * as schemas from './schemas.js';
import { installUi } from './ui-files.js';

export interface WebAppOptions {
  store: StateStore;
  auth: AuthStore;
  /** The DAGs the scheduler loads (the web server reads the same folder). */
  dags: () => ReadonlyMap<string, DagSpec>;
  /** Anonymous requests get this role; undefined (the default) means none is let in. */
  anonymousRole?: Role;
  /** Largest request body (default 256 KiB). */
  maxBodyBytes?: number;
  /** Cookies only over HTTPS (default true; false for plain-HTTP development). */
  secureCookies?: boolean;
  /**
   * Serve the prebuilt browser UI at `/` (default true): `true` serves this package's `dist/ui`, a string
   * serves that folder instead, `false` serves the API only.
   */
  serveUi?: boolean | string;
  now?: () => number;
  onError?: (error: unknown) => void;
  /** Where task logs are read (the routes answer 503 without one). */
  logStore?: LogStoreLike;
  /** The worker pools' figures for GET /api/pools (an empty list without one). */
  pools?: PoolStatusSource;
  /** How long clear and mark wait for a scheduler's acknowledgement before answering 202 (default 10 s). */
  repairWaitMs?: number;
  /** Comment lines sent to each live-update client this often, so proxies keep the stream (default 15 s). */
  heartbeatMs?: number;
  /** The prediction sets and rollouts for /api/models… (the routes answer 503 without one). */
  predictions?: PredictionSource;
  /** Prometheus metrics of this app at GET /metrics (default on; false: none). */
  metrics?: WebMetrics | false;
}

const PUBLIC = new Set(['/api/health', '/api/auth/login', '/api/openapi.json']);

/** zod issues as the fields at fault, prefixed with where they were (`body`, `query`, `param`). */

function require(c: Context<Env>, role: Role): Principal {
  const principal = c.get('principal');
  if (!roleAllows(principal.role, role)) {
    throw new ProblemError('forbidden', `this needs the ${role} role; ${principal.name} is ${principal.role}`);
  }
  return principal;
}

export function createWebApp(options: WebAppOptions): OpenAPIHono<Env> {
  const { store, auth } = options;
  const now = options.now ?? Date.now;
  const app = new OpenAPIHono<Env>({
    defaultHook: validationHook,
  });

  if (options.metrics !== false) installMetrics(app, options.metrics);
  installCommon(app, {
    prefix: '/api',
    auth,
    publicPaths: PUBLIC,
    ...(options.anonymousRole ? { anonymousRole: options.anonymousRole } : {}),
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });

  const dagOf = (c: Context<Env>, dagId: string): DagSpec => visibleDag(c.get('principal'), options.dags(), dagId);
  const operable = (c: Context<Env>, dagId: string): DagSpec => operableDag(c.get('principal'), options.dags(), dagId);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/health',
      responses: {
        200: { description: 'The server answers', content: { 'application/json': { schema: schemas.health } } },
      },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/login',
      request: { body: { required: true, content: { 'application/json': { schema: schemas.login } } } },
      responses: {
        200: {
          description: 'Logged in; the session cookie is set',
          content: { 'application/json': { schema: schemas.me } },
        },
        401: {
          description: 'Wrong name or password',
          content: { 'application/problem+json': { schema: schemas.problem } },
        },
        429: {
          description: 'Too many failed logins',
          content: { 'application/problem+json': { schema: schemas.problem } },
        },
      },
    }),
    async (c) => {
      const { username, password } = c.req.valid('json');
      const result = await auth.login(username, password);
      if (result === 'limited')
        return sendProblem(c, 'too-many-requests', 'too many failed logins for this user; wait and try again') as never;
      if (!result) return sendProblem(c, 'unauthenticated', 'wrong user name or password') as never;
      setCookie(c, SESSION_COOKIE, result.sessionId, {
        httpOnly: true,
        sameSite: 'Strict',
        secure: options.secureCookies ?? true,
        path: '/',
      });
      return c.json(
        { name: result.session.user, role: result.session.role, kind: 'user' as const, csrfToken: result.session.csrf },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/logout',
      responses: { 204: { description: 'Logged out' } },
    }),
    async (c) => {
      const sessionId = getCookie(c, SESSION_COOKIE);
      if (sessionId) await auth.logout(sessionId);
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/auth/me',
      responses: {
        200: { description: 'Who the request acts for', content: { 'application/json': { schema: schemas.me } } },
      },
    }),
    async (c) => {
      const principal = c.get('principal');
      // The UI keeps the CSRF token in memory only; after a reload it gets it again here (another site's
      // page cannot read this answer, and the session cookie is SameSite=Strict).
      const sessionId = principal.kind === 'user' ? getCookie(c, SESSION_COOKIE) : undefined;
      const session = sessionId ? await auth.session(sessionId) : undefined;
      return c.json(
        {
          name: principal.name,
          role: principal.role,
          kind: principal.kind,
          ...(session ? { csrfToken: session.csrf } : {}),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/dags',
      responses: {
        200: {
          description: 'Every DAG the scheduler loads',
          content: { 'application/json': { schema: schemas.dagList } },
        },
      },
    }),
    async (c) => {
      const principal = c.get('principal');
      const dags = [...options.dags().values()]
        .filter((dag) => mayView(principal, dag.access))
        .sort((a, b) => a.id.localeCompare(b.id));
      const summaries = await Promise.all(
        dags.map(async (dag) => {
          const [paused, runs] = await Promise.all([
            store.isDagPaused(dag.id),
            store.listRuns({ dagId: dag.id, limit: 5 }),
          ]);
          return { ...schemas.dagSummaryOf(dag, paused, runs, now()), mayOperate: mayOperate(principal, dag.access) };
        }),
      );
      return c.json({ dags: summaries }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/dags/{dagId}',
      request: { params: schemas.dagParams },
      responses: {
        200: {
          description: 'A DAG with its tasks and params',
          content: { 'application/json': { schema: schemas.dagDetail } },
        },
        404: { description: 'No such DAG', content: { 'application/problem+json': { schema: schemas.problem } } },
      },
    }),
    async (c) => {
      const dag = dagOf(c, c.req.valid('param').dagId);
      const [paused, runs] = await Promise.all([
        store.isDagPaused(dag.id),
        store.listRuns({ dagId: dag.id, limit: 5 }),
      ]);
      // The UI shows operators' buttons only to whom the API would let use them.
      const operate = mayOperate(c.get('principal'), dag.access);
      return c.json({ ...schemas.dagDetailOf(dag, paused, runs, now()), mayOperate: operate }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/dags/{dagId}',
      request: {
        params: schemas.dagParams,
        body: { required: true, content: { 'application/json': { schema: schemas.dagPatch } } },
      },
      responses: {
        200: {
          description: 'The DAG after the change',
          content: { 'application/json': { schema: schemas.dagDetail } },
        },
        404: { description: 'No such DAG', content: { 'application/problem+json': { schema: schemas.problem } } },
      },
    }),
    async (c) => {
      const dag = operable(c, c.req.valid('param').dagId);
      const { paused } = c.req.valid('json');
      await store.setDagPaused(dag.id, paused);
      const runs = await store.listRuns({ dagId: dag.id, limit: 5 });
      return c.json(schemas.dagDetailOf(dag, paused, runs, now()), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/dags/{dagId}/runs',
      request: {
        params: schemas.dagParams,
        body: { required: false, content: { 'application/json': { schema: schemas.trigger } } },
      },
      responses: {
        201: {
          description: 'The run, queued; a scheduler starts it',
          content: { 'application/json': { schema: schemas.run } },
        },
        400: {
          description: 'The conf does not fit the params',
          content: { 'application/problem+json': { schema: schemas.problem } },
        },
      },
    }),
    async (c) => {
      const dag = operable(c, c.req.valid('param').dagId);
      const given = (c.req.header('content-length') === '0' ? {} : c.req.valid('json')?.conf) ?? {};
      const conf = confFor(dag, given);
      const at = now();
      const runId = newRunId('manual', dag.id, at);
      const { run } = await store.createRun({
        runId,
        dagId: dag.id,
        kind: 'manual',
        state: 'queued',
        logicalDateMs: at,
        conf,
        createdMs: at,
      });
      return c.json(schemas.runOf(run), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs',
      request: { query: schemas.runQuery },
      responses: {
        200: {
          description: 'Runs, newest logical date first',
          content: { 'application/json': { schema: schemas.runList } },
        },
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const principal = c.get('principal');
      if (query.dagId) dagOf(c, query.dagId);
      const dags = options.dags();
      // Runs of a DAG the principal may not see are left out; a page is topped up from further on.
      const visible = (dagId: string) => query.dagId !== undefined || mayView(principal, dags.get(dagId)?.access);
      let before = query.cursor === undefined ? undefined : decodeRunCursor(query.cursor);
      const runs: DagRunRecord[] = [];
      let more = false;
      for (let round = 0; round < 20; round++) {
        const page = await store.listRuns({
          ...(query.dagId ? { dagId: query.dagId } : {}),
          ...(query.state ? { states: [query.state] } : {}),
          limit: query.limit + 1,
          ...(before ? { before } : {}),
        });
        let taken = 0;
        for (const run of page.slice(0, query.limit)) {
          taken++;
          if (!visible(run.dagId)) continue;
          runs.push(run);
          if (runs.length === query.limit) break;
        }
        // More exist when this page had runs left over past what was taken.
        more = page.length > taken;
        const last = page[taken - 1];
        if (runs.length === query.limit || !more || !last) break;
        before = { logicalDateMs: last.logicalDateMs, runId: last.runId };
      }
      const last = runs.at(-1);
      return c.json(
        {
          runs: runs.map(schemas.runOf),
          ...(more && last ? { nextCursor: encodeRunCursor(last) } : {}),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs/{runId}',
      request: { params: schemas.runParams },
      responses: {
        200: {
          description: 'A run with its task instances',
          content: { 'application/json': { schema: schemas.runDetail } },
        },
        404: { description: 'No such run', content: { 'application/problem+json': { schema: schemas.problem } } },
      },
    }),
    async (c) => {
      const { runId } = c.req.valid('param');
      const { run } = await visibleRun(c.get('principal'), store, options.dags(), runId);
      const instances = await store.getTaskInstances(runId);
      return c.json({ ...schemas.runOf(run), tasks: instances.map(schemas.instanceOf) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/runs/{runId}/cancel',
      request: { params: schemas.runParams },
      responses: {
        202: {
          description: 'Cancelled (queued) or asked of the scheduler driving it',
          content: { 'application/json': { schema: schemas.cancelResult } },
        },
        404: { description: 'No such run', content: { 'application/problem+json': { schema: schemas.problem } } },
      },
    }),
    async (c) => {
      const principal = require(c, 'operator');
      const { runId } = c.req.valid('param');
      const { run } = await visibleRun(principal, store, options.dags(), runId, 'operate');
      if (run.state === 'success' || run.state === 'failed')
        return c.json({ runId, outcome: 'already-ended' as const }, 202);
      const reason = `cancelled by ${principal.name}`;
      if (run.state === 'queued') {
        const ok = await store.applyTransition(runId, {
          run: {
            patch: { state: 'failed', endMs: now(), reason: `${reason} before it started` },
            expectState: 'queued',
          },
        });
        if (ok) return c.json({ runId, outcome: 'cancelled' as const }, 202);
      }
      await store.appendEvent(CONTROL_STREAM, 'cancel', { runId, reason }, now());
      return c.json({ runId, outcome: 'requested' as const }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/events/{name}',
      request: {
        params: schemas.eventParams,
        body: { required: false, content: { 'application/json': { schema: schemas.eventBody } } },
      },
      responses: { 202: { description: 'Published', content: { 'application/json': { schema: schemas.published } } } },
    }),
    async (c) => {
      require(c, 'operator');
      const { name } = c.req.valid('param');
      const payload = (c.req.header('content-length') === '0' ? {} : c.req.valid('json')?.payload) ?? {};
      safe(payload, 'body.payload');
      const id = await store.appendEvent(eventStream(name), 'event', payload, now());
      return c.json({ name, id }, 202);
    },
  );

  const context = { store, dags: options.dags, now };
  registerLogRoutes(app, { ...context, ...(options.logStore ? { logStore: options.logStore } : {}) });
  registerTryRoutes(app, { ...context, ...(options.logStore ? { logStore: options.logStore } : {}) });
  registerRepairRoutes(app, { ...context, waitMs: options.repairWaitMs ?? 10_000 });
  registerDatasetRoutes(app, context);
  registerGridRoutes(app, context);
  registerPoolRoutes(app, { ...(options.pools ? { pools: options.pools } : {}) });
  registerLiveRoutes(app, { ...context, heartbeatMs: options.heartbeatMs ?? 15_000 });
  registerPredictionRoutes(app, { now, ...(options.predictions ? { source: options.predictions } : {}) });
  registerSchedulerRoutes(app, context);

  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Batuta API',
      version: '0.1.0',
      description: 'DAGs, runs, task instances and events of a Batuta deployment.',
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  // The UI answers what no route answers (it is the not-found handler), whatever order routes are added in.
  if (options.serveUi !== false) {
    installUi(app, {
      apiPrefix: '/api',
      ...(typeof options.serveUi === 'string' ? { root: options.serveUi } : {}),
    });
  }
  return app;
}

/** A conf checked like the CLI's: prototype-safe, within depth, resolved against the DAG's params. */
function confFor(dag: DagSpec, given: Record<string, unknown>): Record<string, unknown> {
  safe(given, 'body.conf');
  try {
    return resolveParams(dag.params, given, 'body.conf');
  } catch (error) {
    if (error instanceof BatutaError) {
      throw new ProblemError('invalid-request', error.message, [{ field: 'body.conf', message: error.message }]);
    }
    throw error;
  }
}

function safe(value: unknown, field: string): void {
  try {
    checkSafeJson(value, field);
  } catch (error) {
    if (error instanceof BatutaError)
      throw new ProblemError('invalid-request', error.message, [{ field, message: error.message }]);
    throw error;
  }
}
