// The API's request and response bodies, one zod schema each: they validate requests, type the handlers
// and generate the OpenAPI document.

import type { DagRunRecord, DagSpec, TaskInstanceRecord } from '@batuta/scheduler';
import { Timetable } from '@batuta/scheduler/internals';
import { z } from '@hono/zod-openapi';

const NAME = /^[A-Za-z0-9_.-]{1,200}$/;
const RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;

export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

export const health = z.object({ status: z.literal('ok') }).openapi('Health');

export const login = z
  .object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) })
  .strict()
  .openapi('Login');

export const me = z
  .object({
    name: z.string(),
    role: z.enum(['viewer', 'operator', 'admin']),
    kind: z.enum(['user', 'token', 'anonymous']),
    csrfToken: z.string().optional().openapi({ description: 'Send it as x-csrf-token on POST/PATCH/DELETE' }),
  })
  .openapi('Me');

export const dagParams = z.object({ dagId: z.string().regex(NAME, 'a DAG id: letters, digits, _ . -') });
export const runParams = z.object({ runId: z.string().min(1).max(300) });
export const eventParams = z.object({ name: z.string().regex(NAME, 'an event name: letters, digits, _ . -') });

const runState = z.enum(RUN_STATES);

export const run = z
  .object({
    runId: z.string(),
    dagId: z.string(),
    kind: z.string(),
    state: runState,
    logicalDate: z.string(),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    endedAt: z.string().optional(),
    durationMs: z.number().int().min(0).optional(),
    conf: z.record(z.string(), z.unknown()),
    reason: z.string().optional(),
  })
  .openapi('Run');

export const taskInstance = z
  .object({
    taskId: z.string(),
    mapIndex: z.number().int(),
    state: z.string(),
    tryNumber: z.number().int(),
    startedAt: z.string().optional(),
    endedAt: z.string().optional(),
    durationMs: z.number().int().min(0).optional(),
    worker: z.string().optional(),
    error: z.object({ code: z.string().optional(), message: z.string() }).optional(),
    reason: z.string().optional(),
  })
  .openapi('TaskInstance');

export const runDetail = run.extend({ tasks: z.array(taskInstance) }).openapi('RunDetail');
export const runList = z
  .object({
    runs: z.array(run),
    nextCursor: z
      .string()
      .optional()
      .openapi({ description: 'Pass as `cursor` for the next page; absent on the last' }),
  })
  .openapi('RunList');
export const runQuery = z.object({
  dagId: z.string().regex(NAME).optional(),
  state: runState.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,800}$/, 'a nextCursor from an earlier page')
    .optional()
    .openapi({ description: 'The nextCursor of the previous page' }),
});

export const dagSummary = z
  .object({
    dagId: z.string(),
    description: z.string().optional(),
    tags: z.array(z.string()),
    owner: z.string().optional(),
    schedule: z.unknown(),
    paused: z.boolean(),
    nextFire: z
      .string()
      .nullable()
      .openapi({ description: 'The next time-based fire (ISO 8601) within the start and end dates; null when none' }),
    taskCount: z.number().int(),
    lastRuns: z.array(z.object({ runId: z.string(), state: runState, logicalDate: z.string() })),
    mayOperate: z
      .boolean()
      .optional()
      .openapi({ description: 'Whether the caller may trigger, pause, cancel, clear and mark (role and access)' }),
  })
  .openapi('DagSummary');

export const dagDetail = dagSummary
  .extend({
    params: z.record(z.string(), z.unknown()),
    tasks: z.array(
      z.object({
        taskId: z.string(),
        operator: z.string(),
        upstream: z.array(z.string()),
        triggerRule: z.string(),
        pool: z.string().optional(),
        mapped: z.boolean(),
        resources: z.unknown(),
      }),
    ),
  })
  .openapi('DagDetail');

export const dagList = z.object({ dags: z.array(dagSummary) }).openapi('DagList');
export const dagPatch = z.object({ paused: z.boolean() }).strict().openapi('DagPatch');
export const trigger = z
  .object({
    conf: z.record(z.string(), z.unknown()).optional().openapi({ description: "Checked against the DAG's params" }),
  })
  .strict()
  .openapi('Trigger');
export const cancelResult = z
  .object({ runId: z.string(), outcome: z.enum(['cancelled', 'requested', 'already-ended']) })
  .openapi('CancelResult');
export const eventBody = z
  .object({ payload: z.record(z.string(), z.unknown()).optional() })
  .strict()
  .openapi('Event');
export const published = z.object({ name: z.string(), id: z.string() }).openapi('Published');

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const duration = (start: number | undefined, end: number | undefined) =>
  start === undefined || end === undefined ? undefined : Math.max(0, end - start);
const defined = <T extends Record<string, unknown>>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

export function runOf(record: DagRunRecord): z.infer<typeof run> {
  return defined({
    runId: record.runId,
    dagId: record.dagId,
    kind: record.kind,
    state: record.state,
    logicalDate: new Date(record.logicalDateMs).toISOString(),
    createdAt: new Date(record.createdMs).toISOString(),
    startedAt: iso(record.startMs),
    endedAt: iso(record.endMs),
    durationMs: duration(record.startMs, record.endMs),
    conf: record.conf,
    reason: record.reason,
  });
}

export function instanceOf(record: TaskInstanceRecord): z.infer<typeof taskInstance> {
  return defined({
    taskId: record.taskId,
    mapIndex: record.mapIndex,
    state: record.state,
    tryNumber: record.tryNumber,
    startedAt: iso(record.startMs),
    endedAt: iso(record.endMs),
    durationMs: duration(record.startMs, record.endMs),
    worker: record.worker,
    error: record.error ? defined({ code: record.error.code, message: record.error.message }) : undefined,
    reason: record.reason,
  });
}

export function dagSummaryOf(
  dag: DagSpec,
  paused: boolean,
  runs: DagRunRecord[],
  nowMs: number,
): z.infer<typeof dagSummary> {
  const next = Timetable.of(dag)?.nextFire(nowMs);
  return defined({
    dagId: dag.id,
    description: dag.description,
    tags: dag.tags,
    owner: dag.owner,
    schedule: dag.schedule ?? null,
    paused,
    nextFire: next === undefined ? null : new Date(next).toISOString(),
    taskCount: dag.tasks.length,
    lastRuns: runs.map((r) => ({
      runId: r.runId,
      state: r.state,
      logicalDate: new Date(r.logicalDateMs).toISOString(),
    })),
  });
}

export function dagDetailOf(
  dag: DagSpec,
  paused: boolean,
  runs: DagRunRecord[],
  nowMs: number,
): z.infer<typeof dagDetail> {
  return {
    ...dagSummaryOf(dag, paused, runs, nowMs),
    params: dag.params,
    tasks: dag.tasks.map((task) =>
      defined({
        taskId: task.id,
        operator: task.operator,
        upstream: task.upstream,
        triggerRule: task.triggerRule,
        pool: task.pool,
        mapped: task.map !== undefined,
        resources: task.resources,
      }),
    ),
  };
}
