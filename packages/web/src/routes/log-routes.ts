// GET /api/runs/{runId}/tasks/{taskId}/logs: one try's log lines, a page at a time, through the LogStore
// port (the same reads as `batuta tasks logs`). A client follows a running try by asking again with the
// returned cursor until `ended` (or the instance leaves the running states). `tail=N` answers the last N
// lines instead, with a cursor to follow on from them.
import { BatutaError, type LogPage, type LogStore } from '@batuta/scheduler';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Env } from '../http-common.js';
import { ProblemError } from '../problem.js';
import * as schemas from '../schemas.js';
import { type RouteContext, visibleRun } from './route-helpers.js';

/** The reads the log route needs of a LogStore. */
export type LogStoreLike = Pick<LogStore, 'read' | 'tries'>;

const logQuery = z.object({
  try: z.coerce.number().int().min(1).max(1_000_000).optional().openapi({ description: 'Default: the latest try' }),
  mapIndex: z.coerce.number().int().min(-1).max(10_000_000).default(-1),
  cursor: z.string().min(1).max(200).optional().openapi({ description: 'The cursor of the previous page' }),
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
  tail: z.coerce.number().int().min(0).max(10_000).optional().openapi({
    description: 'Only the last N lines (instead of `limit`), with a cursor to follow on; not with `cursor`',
  }),
});

/** The path parameters of a task instance route. */
export const taskParams = schemas.runParams.extend({
  taskId: z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/, 'a task id: letters, digits, _ . -'),
});

const logPage = z
  .object({
    runId: z.string(),
    taskId: z.string(),
    mapIndex: z.number().int(),
    tryNumber: z.number().int(),
    tries: z.array(z.number().int()).openapi({ description: 'The tries of this instance that have a log' }),
    lines: z.array(
      z.object({ time: z.string(), atMs: z.number(), stream: z.enum(['stdout', 'stderr', 'log']), text: z.string() }),
    ),
    cursor: z.string().openapi({ description: 'Ask again with it for the lines written since' }),
    ended: z.boolean().openapi({ description: 'The try wrote its last line' }),
    droppedLines: z.number().int(),
    state: z.string().optional().openapi({ description: "The instance's state now" }),
  })
  .openapi('LogPage');

export function registerLogRoutes(app: OpenAPIHono<Env>, context: RouteContext & { logStore?: LogStoreLike }): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/runs/{runId}/tasks/{taskId}/logs',
      request: { params: taskParams, query: logQuery },
      responses: {
        200: { description: "A page of one try's log", content: { 'application/json': { schema: logPage } } },
        404: {
          description: 'No such run, task or log',
          content: { 'application/problem+json': { schema: schemas.problem } },
        },
        503: { description: 'No log store', content: { 'application/problem+json': { schema: schemas.problem } } },
      },
    }),
    async (c) => {
      const { runId, taskId } = c.req.valid('param');
      const query = c.req.valid('query');
      await visibleRun(c.get('principal'), context.store, context.dags(), runId);
      const logStore = context.logStore;
      if (!logStore) throw new ProblemError('unavailable', 'this server has no log store configured');
      const [instance, tries] = await Promise.all([
        context.store.getTaskInstance(runId, taskId, query.mapIndex),
        logStore.tries(runId, taskId, query.mapIndex),
      ]);
      if (!instance && tries.length === 0) {
        const index = query.mapIndex >= 0 ? ` #${query.mapIndex}` : '';
        throw new ProblemError('not-found', `run ${runId} has no task '${taskId}'${index} and no logs for it`);
      }
      if (query.tail !== undefined && query.cursor !== undefined) {
        const message = 'ask for a tail or read on from a cursor, not both: the tail answers the cursor to follow';
        throw new ProblemError('invalid-request', message, [{ field: 'query.tail', message }]);
      }
      const tryNumber = query.try ?? Math.max(instance?.tryNumber ?? 0, tries.at(-1) ?? 0, 1);
      let page: LogPage;
      try {
        page = await logStore.read(
          { runId, taskId, mapIndex: query.mapIndex, tryNumber },
          query.tail !== undefined
            ? { tail: query.tail }
            : { limit: query.limit, ...(query.cursor === undefined ? {} : { after: query.cursor }) },
        );
      } catch (error) {
        if (query.cursor !== undefined && error instanceof BatutaError && String(error.code).includes('CURSOR')) {
          throw new ProblemError('invalid-request', error.message, [{ field: 'query.cursor', message: error.message }]);
        }
        throw error;
      }
      return c.json(
        {
          runId,
          taskId,
          mapIndex: query.mapIndex,
          tryNumber,
          tries,
          lines: page.lines.map((line) => ({
            time: new Date(line.atMs).toISOString(),
            atMs: line.atMs,
            stream: line.stream,
            text: line.text,
          })),
          cursor: page.cursor,
          ended: page.ended,
          droppedLines: page.droppedLines,
          ...(instance ? { state: instance.state } : {}),
        },
        200,
      );
    },
  );
}
