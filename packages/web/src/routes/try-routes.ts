// GET /api/runs/{runId}/tasks/{taskId}/tries: every try of a task instance, oldest first, from the store's
// try history (ADR 019): state, times, duration, worker and error of each, and whether it has a log. Tries
// that only a log knows (runs written before the history existed) are listed too, by number alone.
import type { TaskTryRecord } from '@batuta/scheduler';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Env } from '../http-common.js';
import { ProblemError } from '../problem.js';
import * as schemas from '../schemas.js';
import { type LogStoreLike, taskParams } from './log-routes.js';
import { type RouteContext, visibleRun } from './route-helpers.js';

const triesQuery = z.object({
  mapIndex: z.coerce.number().int().min(-1).max(10_000_000).default(-1),
});

const taskTry = z
  .object({
    tryNumber: z.number().int().min(1),
    state: z.string().optional().openapi({ description: 'How the try ended, or stands; absent for a log-only try' }),
    queuedAt: z.string().optional(),
    startedAt: z.string().optional(),
    endedAt: z.string().optional(),
    durationMs: z.number().int().min(0).optional(),
    worker: z.string().optional(),
    error: z
      .object({ code: z.string().optional(), name: z.string().optional(), message: z.string() })
      .optional()
      .openapi({ description: 'The error of a failed try, its message cut to 500 characters' }),
    reason: z.string().optional(),
    hasLog: z.boolean().openapi({ description: 'The log store holds a log of this try' }),
  })
  .openapi('TaskTry');

const taskTries = z
  .object({
    runId: z.string(),
    taskId: z.string(),
    mapIndex: z.number().int(),
    state: z.string().optional().openapi({ description: "The instance's state now" }),
    tries: z.array(taskTry).openapi({
      description:
        'Every try, oldest first: the kept history (the newest 100 ended tries), the current try, and tries ' +
        'known only by a log (state absent)',
    }),
  })
  .openapi('TaskTries');

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** A stored try as the API shows it; undefined fields are left out. */
function tryOf(entry: TaskTryRecord, hasLog: boolean): z.infer<typeof taskTry> {
  const shown: Record<string, unknown> = {
    tryNumber: entry.tryNumber,
    state: entry.state,
    queuedAt: iso(entry.queuedMs),
    startedAt: iso(entry.startMs),
    endedAt: iso(entry.endMs),
    durationMs: entry.durationMs,
    worker: entry.worker,
    error: entry.error,
    reason: entry.reason,
    hasLog,
  };
  return Object.fromEntries(Object.entries(shown).filter(([, v]) => v !== undefined)) as z.infer<typeof taskTry>;
}

export function registerTryRoutes(app: OpenAPIHono<Env>, context: RouteContext & { logStore?: LogStoreLike }): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs/{runId}/tasks/{taskId}/tries',
      request: { params: taskParams, query: triesQuery },
      responses: {
        200: {
          description: 'Every try of the task instance, oldest first',
          content: { 'application/json': { schema: taskTries } },
        },
        404: {
          description: 'No such run or task instance',
          content: { 'application/problem+json': { schema: schemas.problem } },
        },
      },
    }),
    async (c) => {
      const { runId, taskId } = c.req.valid('param');
      const { mapIndex } = c.req.valid('query');
      await visibleRun(c.get('principal'), context.store, context.dags(), runId);
      const [instance, stored, logTries] = await Promise.all([
        context.store.getTaskInstance(runId, taskId, mapIndex),
        context.store.getTaskTries(runId, taskId, mapIndex),
        context.logStore ? context.logStore.tries(runId, taskId, mapIndex) : Promise.resolve([]),
      ]);
      if (!instance && logTries.length === 0) {
        const index = mapIndex >= 0 ? ` #${mapIndex}` : '';
        throw new ProblemError('not-found', `run ${runId} has no task '${taskId}'${index}`);
      }
      const withLog = new Set(logTries);
      const byNumber = new Map<number, z.infer<typeof taskTry>>();
      for (const tryNumber of logTries) byNumber.set(tryNumber, { tryNumber, hasLog: true });
      for (const entry of stored) byNumber.set(entry.tryNumber, tryOf(entry, withLog.has(entry.tryNumber)));
      return c.json(
        {
          runId,
          taskId,
          mapIndex,
          ...(instance ? { state: instance.state } : {}),
          tries: [...byNumber.values()].sort((a, b) => a.tryNumber - b.tryNumber),
        },
        200,
      );
    },
  );
}
