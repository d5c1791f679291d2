// Clear and mark, the Airflow way: POST /api/runs/{runId}/clear and POST /api/runs/{runId}/tasks/mark. The
// request is planned and sent with @batuta/scheduler's requestRepair — the same control-stream request the
// CLI sends — and applied by the scheduler that drives the run; the answer says what changed (200), or that
// no scheduler acknowledged it in time (202: it stays requested). A dry run only plans.
import { BatutaError, type RepairRequest, requestRepair } from '@batuta/scheduler';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Env } from '../http-common.js';
import { ProblemError } from '../problem.js';
import * as schemas from '../schemas.js';
import { type RouteContext, visibleRun } from './route-helpers.js';

const TASK_ID = z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/, 'a task id: letters, digits, _ . -');

const clearBody = z
  .object({
    taskIds: z.array(TASK_ID).min(1).max(10_000).optional().openapi({ description: 'Default: every task of the run' }),
    downstream: z.boolean().optional(),
    upstream: z.boolean().optional(),
    onlyFailed: z.boolean().optional(),
    onlyRunning: z.boolean().optional(),
    dryRun: z.boolean().optional(),
  })
  .strict()
  .openapi('ClearRequest');

const markBody = z
  .object({
    taskIds: z.array(TASK_ID).min(1).max(10_000),
    state: z.enum(['success', 'failed', 'skipped']),
    mapIndexes: z.array(z.number().int().min(0)).min(1).max(10_000).optional().openapi({
      description:
        'Only these instances of the named mapped tasks; tasks added by downstream/upstream are marked whole',
    }),
    downstream: z.boolean().optional(),
    upstream: z.boolean().optional(),
    dryRun: z.boolean().optional(),
  })
  .strict()
  .openapi('MarkRequest');

const repairResult = z
  .object({
    runId: z.string(),
    dagId: z.string(),
    action: z.enum(['clear', 'mark']),
    status: z.enum(['dry-run', 'nothing-to-change', 'requested', 'applied', 'not-applied']),
    appliedBy: z.string().optional(),
    tasks: z.array(z.string()),
    changes: z.array(
      z.object({
        taskId: z.string(),
        mapIndex: z.number().int(),
        from: z.string(),
        to: z.string(),
        tryNumber: z.number().int(),
      }),
    ),
  })
  .openapi('RepairResult');

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: schemas.problem } },
});

export function registerRepairRoutes(app: OpenAPIHono<Env>, context: RouteContext & { waitMs: number }): void {
  const repair = async (
    principalRunId: { runId: string },
    principal: Env['Variables']['principal'],
    request: RepairRequest | ((taskIds: string[]) => RepairRequest),
    dryRun: boolean,
  ) => {
    const { runId } = principalRunId;
    const { run, dag } = await visibleRun(principal, context.store, context.dags(), runId, 'operate');
    if (!dag)
      throw new ProblemError('conflict', `DAG '${run.dagId}' of run ${runId} is not loaded; it cannot be repaired`);
    const full = typeof request === 'function' ? request(dag.tasks.map((task) => task.id)) : request;
    let result: Awaited<ReturnType<typeof requestRepair>>;
    try {
      result = await requestRepair(context.store, dag, runId, full, {
        dryRun,
        timeoutMs: context.waitMs,
        now: context.now,
      });
    } catch (error) {
      if (error instanceof BatutaError && error.code === 'UNKNOWN_TASK') {
        throw new ProblemError('invalid-request', error.message, [{ field: 'body.taskIds', message: error.message }]);
      }
      if (error instanceof BatutaError && error.code === 'UNKNOWN_MAP_INDEX') {
        throw new ProblemError('invalid-request', error.message, [
          { field: 'body.mapIndexes', message: error.message },
        ]);
      }
      throw error;
    }
    const done = result.done;
    if (done?.error) throw new ProblemError('conflict', `scheduler ${done.schedulerId} refused: ${done.error.message}`);
    const status =
      result.status === 'done' ? (done?.applied ? ('applied' as const) : ('not-applied' as const)) : result.status;
    return {
      runId,
      dagId: dag.id,
      action: full.action,
      status,
      ...(done ? { appliedBy: done.schedulerId } : {}),
      tasks: result.plan.taskIds,
      changes: result.plan.changes.map(({ taskId, mapIndex, from, to, tryNumber }) => ({
        taskId,
        mapIndex,
        from,
        to,
        tryNumber,
      })),
    };
  };

  // Clear and mark answer alike.
  const repairResponses = {
    200: { description: 'Applied, or planned (dry run)', content: { 'application/json': { schema: repairResult } } },
    202: {
      description: 'Requested; no scheduler acknowledged it yet',
      content: { 'application/json': { schema: repairResult } },
    },
    403: problemResponse('Not allowed to operate this DAG'),
    404: problemResponse('No such run'),
    409: problemResponse('The DAG is not loaded, or the scheduler refused'),
  } as const;

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/runs/{runId}/clear',
      request: {
        params: schemas.runParams,
        body: { required: false, content: { 'application/json': { schema: clearBody } } },
      },
      responses: repairResponses,
    }),
    async (c) => {
      const body = (c.req.header('content-length') === '0' ? undefined : c.req.valid('json')) ?? {};
      const { taskIds, dryRun, downstream, upstream, onlyFailed, onlyRunning } = body;
      const result = await repair(
        c.req.valid('param'),
        c.get('principal'),
        (all) => ({
          action: 'clear',
          taskIds: taskIds ?? all,
          ...(downstream ? { downstream: true } : {}),
          ...(upstream ? { upstream: true } : {}),
          ...(onlyFailed ? { onlyFailed: true } : {}),
          ...(onlyRunning ? { onlyRunning: true } : {}),
        }),
        dryRun ?? false,
      );
      return c.json(result, result.status === 'requested' ? 202 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/runs/{runId}/tasks/mark',
      request: {
        params: schemas.runParams,
        body: { required: true, content: { 'application/json': { schema: markBody } } },
      },
      responses: repairResponses,
    }),
    async (c) => {
      const { taskIds, state, mapIndexes, downstream, upstream, dryRun } = c.req.valid('json');
      const result = await repair(
        c.req.valid('param'),
        c.get('principal'),
        {
          action: 'mark',
          taskIds,
          state,
          ...(mapIndexes ? { mapIndexes } : {}),
          ...(downstream ? { downstream: true } : {}),
          ...(upstream ? { upstream: true } : {}),
        },
        dryRun ?? false,
      );
      return c.json(result, result.status === 'requested' ? 202 : 200);
    },
  );
}
