// A model's prediction sets and its rollout (issues #12, #13): list the models, a model's versions with
// what the ingest gate decided, activate a version or roll back to the previous one, and a rollout's state
// with its statistics, advanced, promoted or aborted. Every change goes through the same @batuta/ml-tasks
// calls as `batuta predictions …` and `batuta rollout …` (PredictionSets, RolloutStore): the web decides
// nothing they decide. Reads need the viewer role, changes the operator role.
import { listPredictionModels, MlTasksError, PredictionSets, RolloutStore, type VersionInfo } from '@batuta/ml-tasks';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Redis } from 'ioredis';
import { mayUseModel, roleAllows } from '../auth/roles.js';
import type { Env } from '../http-common.js';
import { ProblemError } from '../problem.js';
import * as schemas from '../schemas.js';
import * as bodies from './prediction-schemas.js';
import { rolloutViewOf } from './rollout-view.js';

/** Where the prediction sets and rollouts live (the routes answer 503 without one). */
export interface PredictionSource {
  redis: Redis;
  /** The namespace the batch DAGs ingest into (default `default`). */
  namespace?: string;
}

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: schemas.problem } },
});
const READ_PROBLEMS = {
  401: problemResponse('No credentials'),
  404: problemResponse('No such model, or it has no rollout'),
  503: problemResponse('The server has no prediction store'),
} as const;
const WRITE_PROBLEMS = {
  ...READ_PROBLEMS,
  400: problemResponse('The body does not match; `errors` names the field'),
  403: problemResponse('Needs the operator role'),
  409: problemResponse('The version or rollout is not in a state that allows it'),
} as const;

/** Codes of ml-tasks errors that mean "not now, in this state" rather than a server failure. */
const CONFLICTS = new Set(['NO_PREVIOUS_VERSION', 'NO_CURRENT_VERSION', 'VERSION_MARKED_BAD', 'VERSION_CONFLICT']);

/** Runs a library call, turning its state errors into problems (404 for no rollout, 409 for the rest). */
async function guarded<T>(body: () => Promise<T>, field?: string): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof MlTasksError) {
      if (error.code === 'NO_ROLLOUT') throw new ProblemError('not-found', error.message);
      if (CONFLICTS.has(error.code) || error.code === 'ROLLOUT_CONFLICT') {
        throw new ProblemError('conflict', error.message, field ? [{ field, message: error.message }] : undefined);
      }
    }
    throw error;
  }
}

/**
 * The model named in the path, when this principal may use it; a token limited to other models gets the
 * same 404 as for a model that does not exist (as a DAG hidden by its access list), so it learns nothing.
 */
function modelFor(c: Context<Env>, model: string, what: 'predictions' | 'rollout' = 'predictions'): string {
  if (!mayUseModel(c.get('principal'), model)) {
    throw new ProblemError(
      'not-found',
      what === 'rollout'
        ? `model ${model} has no rollout; start one first`
        : `no predictions or rollout of model '${model}' in this namespace`,
    );
  }
  return model;
}

function operator(c: Context<Env>): string {
  const principal = c.get('principal');
  if (!roleAllows(principal.role, 'operator')) {
    throw new ProblemError('forbidden', `this needs the operator role; ${principal.name} is ${principal.role}`);
  }
  return principal.name;
}

function versionOf(info: VersionInfo): bodies.VersionItem {
  return {
    version: info.version,
    status: info.status,
    rows: info.rows,
    current: info.current,
    ...(info.bad ? { bad: info.bad } : {}),
    startedAt: new Date(info.startedAtMs).toISOString(),
    ...(info.completedAtMs === undefined ? {} : { committedAt: new Date(info.completedAtMs).toISOString() }),
    ...(info.activatedAtMs === undefined ? {} : { activatedAt: new Date(info.activatedAtMs).toISOString() }),
    ...(info.classNames ? { classNames: info.classNames } : {}),
    ...(info.featureCount === undefined ? {} : { featureCount: info.featureCount }),
    ...(info.gate ? { gate: info.gate } : {}),
  };
}

/** Registers `/api/models…` on the app. */
export function registerPredictionRoutes(
  app: OpenAPIHono<Env>,
  context: { source?: PredictionSource; now: () => number },
): void {
  const source = (): { redis: Redis; namespace: string } => {
    if (!context.source) throw new ProblemError('unavailable', 'this server was started without a prediction store');
    return { redis: context.source.redis, namespace: context.source.namespace ?? 'default' };
  };
  const setsOf = (model: string) => {
    const { redis, namespace } = source();
    return new PredictionSets(redis, { model, namespace });
  };
  const rolloutsOf = (model: string, switchPredictions = false) => {
    const { redis, namespace } = source();
    return new RolloutStore(redis, { model, namespace, activatePredictionSets: switchPredictions });
  };
  /** The model's versions, or 404 when it has none and no rollout either. */
  const knownVersions = async (model: string): Promise<VersionInfo[]> => {
    const versions = await setsOf(model).versions();
    if (versions.length === 0 && !(await rolloutsOf(model).read()) && !(await setsOf(model).layout())) {
      throw new ProblemError('not-found', `no predictions or rollout of model '${model}' in this namespace`);
    }
    return versions;
  };
  const viewOf = async (store: RolloutStore) =>
    rolloutViewOf(await store.report(), await store.recentLog({ count: 20 }), context.now());

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/models',
      responses: {
        200: {
          description: 'The models with predictions or a rollout',
          content: { 'application/json': { schema: bodies.modelList } },
        },
        ...READ_PROBLEMS,
      },
    }),
    async (c) => {
      const { redis, namespace } = source();
      const principal = c.get('principal');
      const names = (await listPredictionModels(redis, { namespace })).filter((model) => mayUseModel(principal, model));
      const models = await Promise.all(
        names.map(async (model) => {
          const sets = setsOf(model);
          const [layout, current, versions, found] = await Promise.all([
            sets.layout(),
            sets.current(),
            sets.versions(),
            rolloutsOf(model).read(),
          ]);
          return {
            model,
            layout: layout?.layout ?? null,
            current: current ?? null,
            versions: versions.length,
            rollout: found ? { strategy: found.rollout.spec.strategy, status: found.rollout.status } : null,
          };
        }),
      );
      return c.json({ namespace, models }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/models/{model}/versions',
      request: { params: bodies.modelParams },
      responses: {
        200: {
          description: 'Every version, oldest first, with its rows, gate record and marks',
          content: { 'application/json': { schema: bodies.versionList } },
        },
        ...READ_PROBLEMS,
      },
    }),
    async (c) => {
      const model = modelFor(c, c.req.valid('param').model);
      const versions = await knownVersions(model);
      const current = versions.find((v) => v.current)?.version ?? (await setsOf(model).current()) ?? null;
      return c.json({ model, current, versions: versions.map(versionOf) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/models/{model}/activate',
      request: {
        params: bodies.modelParams,
        body: { required: true, content: { 'application/json': { schema: bodies.activateBody } } },
      },
      responses: {
        200: {
          description: 'The version is current (consumers read it from now on)',
          content: { 'application/json': { schema: bodies.activated } },
        },
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => {
      operator(c);
      const model = modelFor(c, c.req.valid('param').model);
      const { version, force } = c.req.valid('json');
      await knownVersions(model);
      const { previous } = await guarded(
        () => setsOf(model).activate(version, { force: force ?? false, nowMs: context.now() }),
        'body.version',
      );
      return c.json({ model, previous: previous ?? null, current: version }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/models/{model}/rollback',
      request: {
        params: bodies.modelParams,
        body: { required: false, content: { 'application/json': { schema: bodies.emptyBody } } },
      },
      responses: {
        200: {
          description: 'Current points at the newest earlier version not marked bad; the one left is marked bad',
          content: { 'application/json': { schema: bodies.rolledBack } },
        },
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => {
      operator(c);
      const model = modelFor(c, c.req.valid('param').model);
      await knownVersions(model);
      const result = await guarded(() => setsOf(model).rollback({ nowMs: context.now() }));
      return c.json({ model, ...result }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/models/{model}/rollout',
      request: { params: bodies.modelParams },
      responses: {
        200: {
          description: 'The rollout: strategy, split, step, guards with intervals, checks and the recent log',
          content: { 'application/json': { schema: bodies.rolloutView } },
        },
        ...READ_PROBLEMS,
      },
    }),
    async (c) => {
      const model = modelFor(c, c.req.valid('param').model, 'rollout');
      return c.json(await guarded(() => viewOf(rolloutsOf(model))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/models/{model}/rollout/advance',
      request: {
        params: bodies.modelParams,
        body: { required: false, content: { 'application/json': { schema: bodies.advanceBody } } },
      },
      responses: {
        200: {
          description: "The canary's check and its decision (or a step moved by hand with force)",
          content: { 'application/json': { schema: bodies.rolloutDecision } },
        },
        ...WRITE_PROBLEMS,
      },
    }),
    async (c) => {
      operator(c);
      const model = modelFor(c, c.req.valid('param').model, 'rollout');
      const body = (c.req.header('content-length') === '0' ? undefined : c.req.valid('json')) ?? {};
      const store = rolloutsOf(model, body.switchPredictions);
      const nowMs = context.now();
      const decision = await guarded(async () => {
        if (!body.force) return store.check(nowMs);
        const next = await store.advance(nowMs);
        return {
          action: next.status === 'promoted' ? ('promote' as const) : ('advance' as const),
          reason:
            next.status === 'promoted' ? (next.reason ?? 'promoted') : `moved to step ${next.stepIndex + 1} by hand`,
        };
      });
      const rollout = await guarded(() => viewOf(store));
      return c.json({ model, action: decision.action, reason: decision.reason, rollout }, 200);
    },
  );

  for (const action of ['promote', 'abort'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/api/models/{model}/rollout/${action}`,
        request: {
          params: bodies.modelParams,
          body: { required: false, content: { 'application/json': { schema: bodies.decideBody } } },
        },
        responses: {
          200: {
            description:
              action === 'promote'
                ? 'Promoted: the candidate (a bandit: its best arm) serves everything'
                : 'Aborted: the baseline serves everything (a promoted rollout rolls back)',
            content: { 'application/json': { schema: bodies.rolloutDecision } },
          },
          ...WRITE_PROBLEMS,
        },
      }),
      async (c) => {
        const who = operator(c);
        const model = modelFor(c, c.req.valid('param').model, 'rollout');
        const body = (c.req.header('content-length') === '0' ? undefined : c.req.valid('json')) ?? {};
        const store = rolloutsOf(model, body.switchPredictions);
        const reason = body.reason ?? `${action === 'promote' ? 'promoted' : 'aborted'} by ${who} on the web`;
        const nowMs = context.now();
        const after = await guarded(() =>
          action === 'promote' ? store.promote(nowMs, reason) : store.abort(nowMs, reason),
        );
        const rollout = await guarded(() => viewOf(store));
        return c.json({ model, action, reason: after.reason ?? reason, rollout }, 200);
      },
    );
  }
}
