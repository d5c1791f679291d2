// `batuta serve`: online predictions from the models' ModelServers, behind the same tokens and roles as
// the web API (a token may be limited to some models: its `predict` permission). Batch requests are
// validated by feature name and value with each model's own schema; a model with no servable version
// answers 503 with the reason; a shadow's answer is never returned.
import { MlTasksError, type ModelServer } from '@batuta/ml-tasks';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AuthStore } from './auth/auth-store.js';
import { mayPredict } from './auth/roles.js';
import { type Env, fieldErrors, installCommon, validationHook } from './http-common.js';
import { ProblemError, sendProblem } from './problem.js';

export interface ServingAppOptions {
  models: ReadonlyMap<string, ModelServer>;
  auth: AuthStore;
  /** Largest batch (default 1,000 instances). */
  maxBatch?: number;
  /** Largest request body (default 256 KiB). */
  maxBodyBytes?: number;
  onError?: (error: unknown) => void;
}

/** The largest batch when the options set none. */
export const DEFAULT_MAX_BATCH = 1_000;

const modelParams = z.object({ name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/) });
const problem = z.object({ type: z.string(), title: z.string(), status: z.number(), detail: z.string().optional() });
const predictBody = z
  .object({
    instances: z
      .array(z.object({ features: z.record(z.string(), z.number()), key: z.string().optional() }))
      .min(1)
      .openapi({
        description: 'Rows to score: each names every feature of the model; `key` makes the assignment sticky',
      }),
  })
  .strict()
  .openapi('PredictRequest');
const predictAnswer = z
  .object({
    model: z.string(),
    predictions: z.array(
      z.object({
        version: z.string().nullable(),
        arm: z.string(),
        prediction: z.union([z.string(), z.number()]).nullable(),
      }),
    ),
  })
  .openapi('PredictResponse');
const feedbackBody = z
  .object({ version: z.string().min(1), reward: z.number().min(0).max(1) })
  .strict()
  .openapi('Feedback');

export function createServingApp(options: ServingAppOptions): OpenAPIHono<Env> {
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const app = new OpenAPIHono<Env>({
    defaultHook: validationHook,
  });
  installCommon(app, {
    prefix: '/v1',
    audience: 'api',
    auth: options.auth,
    publicPaths: new Set(['/v1/health', '/v1/openapi.json']),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...(options.onError ? { onError: options.onError } : {}),
  });

  const serverOf = (name: string): ModelServer => {
    const server = options.models.get(name);
    if (!server)
      throw new ProblemError(
        'not-found',
        `no model '${name}' on this server (models: ${[...options.models.keys()].join(', ')})`,
      );
    return server;
  };

  app.get('/v1/health', (c) => c.json({ status: 'ok' }));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/models/{name}/predict',
      request: {
        params: modelParams,
        body: { required: true, content: { 'application/json': { schema: predictBody } } },
      },
      responses: {
        200: { description: 'One prediction per instance', content: { 'application/json': { schema: predictAnswer } } },
        400: {
          description: 'Unknown or missing features, values not numbers',
          content: { 'application/problem+json': { schema: problem } },
        },
        503: {
          description: 'No version of the model passes its validity gate',
          content: { 'application/problem+json': { schema: problem } },
        },
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const server = serverOf(name);
      if (!mayPredict(c.get('principal'), name))
        throw new ProblemError('forbidden', `${c.get('principal').name} may not call ${name}`);
      const { instances } = c.req.valid('json');
      if (instances.length > maxBatch) {
        throw new ProblemError('invalid-request', `at most ${maxBatch} instances per request`, [
          { field: 'body.instances', message: `${instances.length} given` },
        ]);
      }
      const errors = instances.flatMap((instance, index) => {
        const parsed = server.requestSchema.safeParse(instance);
        return parsed.success ? [] : fieldErrors(`body.instances.${index}`, parsed.error.issues);
      });
      if (errors.length > 0)
        throw new ProblemError('invalid-request', 'some instances do not fit the model', errors.slice(0, 50));
      try {
        const predictions = await server.predict(instances);
        return c.json({ model: name, predictions: predictions.map(({ shadow: _kept, ...answer }) => answer) }, 200);
      } catch (error) {
        if (error instanceof MlTasksError && error.code === 'MODEL_INVALID') {
          return sendProblem(c, 'unavailable', error.message) as never;
        }
        throw error;
      }
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/models/{name}/feedback',
      request: {
        params: modelParams,
        body: { required: true, content: { 'application/json': { schema: feedbackBody } } },
      },
      responses: {
        202: {
          description: 'Recorded',
          content: { 'application/json': { schema: z.object({ recorded: z.literal(true) }) } },
        },
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      serverOf(name);
      if (!mayPredict(c.get('principal'), name))
        throw new ProblemError('forbidden', `${c.get('principal').name} may not call ${name}`);
      const { version, reward } = c.req.valid('json');
      await serverOf(name).feedback(version, reward);
      return c.json({ recorded: true as const }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/models/{name}',
      request: { params: modelParams },
      responses: {
        200: {
          description: 'Versions, gate results and the rollout',
          content: { 'application/json': { schema: z.unknown() } },
        },
      },
    }),
    async (c) => c.json(await serverOf(c.req.valid('param').name).status(), 200),
  );

  app.doc31('/v1/openapi.json', { openapi: '3.1.0', info: { title: 'Batuta model server', version: '0.1.0' } });
  return app;
}
